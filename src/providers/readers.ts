import type { z } from "@hono/zod-openapi";
import type { UpstreamDeps } from "../cache/upstream-deps";
import type { Filters } from "../paging/listing";
import type { OffsetReader } from "../paging/offset-reader";
import type { Batch } from "../schemas/batch";
import { DEFAULT_INKIT_SORT } from "../schemas/filters";
import type { EightByEightRunNormalized, InkitRunNormalized } from "../schemas/run";
import type { SourceKey } from "../schemas/sources";
import type { Credential } from "../upstream/credential";
import { bind, eightByEightReader } from "./eightbyeight/source";
import { type InkitListing, inkitListings, inkitReader } from "./inkit/source";

/** What a source's listing holds: 8x8 definitions and Inkit's runs list runs, Inkit's batch listings batches. */
type ItemOf<K extends SourceKey> = K extends { provider: "8x8" }
  ? EightByEightRunNormalized
  : K extends { listing: "runs" }
    ? InkitRunNormalized
    : Batch;

/** How a reader is opened: whose credential reads, which filters it binds, and where a walk pinned it. */
interface ReaderOptions {
  credential: Credential;
  /** The filters the upstream applies. Inkit listings are read in creation order unless they name a `sort`. */
  filters?: Filters;
  /** 8x8: the walk's head (see `bind`); Inkit has no start-time filter and ignores it. */
  pin?: string | null;
  /** 8x8: the definition version the walk listed first; Inkit ignores it. */
  version?: string | null;
}

/**
 * Opens the reader of a source key: its upstream listing with the filters bound, read through `deps`' cache with
 * `credential`. The one place a source key becomes a reader; routes, the feed and change detection all open theirs
 * here.
 * @example openReader({ provider: "8x8", accountId: "acme", definitionId }, deps, { credential, pin, version })
 */
export function openReader<K extends SourceKey>(
  key: K,
  deps: UpstreamDeps,
  { credential, filters = {}, pin = null, version = null }: ReaderOptions,
): OffsetReader<ItemOf<K>> {
  const source: SourceKey = key;
  if (source.provider === "inkit") {
    const listing: InkitListing<z.ZodType, { created_at: string }> = inkitListings[source.listing];
    return inkitReader(deps, listing, { sort: DEFAULT_INKIT_SORT, ...filters }, credential) as OffsetReader<ItemOf<K>>;
  }
  const definition = { account_id: source.accountId, definition_id: source.definitionId, ...filters };
  return eightByEightReader(deps, bind(definition, pin, version), credential) as OffsetReader<ItemOf<K>>;
}
