import { invalidateListings, RequestCache } from "../cache/request-cache";
import type { UpstreamDeps } from "../cache/upstream-deps";
import type { OffsetReader } from "../paging/offset-reader";
import { configuredCredential } from "../providers/credentials";
import { versionOf } from "../providers/eightbyeight/source";
import { openReader } from "../providers/readers";
import type { EightByEightRunNormalized } from "../schemas/run";
import { formatSourceKey, parseSourceKey, resourceName, type SourceKey } from "../schemas/sources";
import type { ItemKind, WatchedItem } from "./changes";
import { type LookupRequest, type LookupResult, lookupFor } from "./lookups";

export type { WatchedItem };

/** The upstream dependencies a source's reader is opened with: the same ones the list routes use. */
export type SourceDeps = UpstreamDeps;

/**
 * The provider sources' dependencies for background work (cron, queue, inbound pushes). Reads go to the upstream
 * (a change is seen as soon as the upstream shows it) and are not stored: detection reads far more than any route
 * would reuse, and routes read the listings themselves.
 */
export function sourceDeps(env: Env, waitUntil: (promise: Promise<unknown>) => void): SourceDeps {
  return { env, cache: new RequestCache(env, waitUntil, { bypass: true, store: false }) };
}

/** A watched listing: what it holds and how to read it. */
export interface SourceSpec {
  /** The canonical source key (see the catalog), also the `resource` of its cached listings. */
  key: string;
  source: SourceKey;
  kind: ItemKind;
  /**
   * The newest-first listing (creation order), with the deployment's configured credential. 8x8: one definition
   * `version`, or the latest (the upstream's default) when null.
   */
  open(deps: SourceDeps, env: Env, version?: string | null): OffsetReader<WatchedItem>;
  /** Reads the watched open items again (see detection/lookups.ts). */
  lookup(req: LookupRequest): Promise<LookupResult>;
  /** The upstream version an item belongs to (8x8 definition versions), kept with its watch. */
  versionOf(item: WatchedItem): string | null;
}

/** Drops the cached listings of a source read with the deployment's configured credential. */
export async function invalidateSource(env: Env, spec: SourceSpec): Promise<void> {
  const { source } = spec;
  await invalidateListings(env, {
    provider: source.provider,
    credential: configuredCredential(env, source.provider),
    resource: resourceName(source),
  });
}

/** The spec of a source key (any accepted spelling), or null when it names no source. */
export function sourceSpec(text: string): SourceSpec | null {
  const source = parseSourceKey(text);
  if (source === null) return null;
  return {
    key: formatSourceKey(source),
    source,
    kind: source.provider === "inkit" && source.listing !== "runs" ? "batch" : "run",
    open: (deps, env, version = null) =>
      openReader(source, deps, { credential: configuredCredential(env, source.provider), version }),
    lookup: lookupFor(source),
    versionOf: (item) => (source.provider === "8x8" ? versionOf(item as EightByEightRunNormalized) : null),
  };
}
