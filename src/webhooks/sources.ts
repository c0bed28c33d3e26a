import { invalidateListings, RequestCache } from "../cache/request-cache";
import type { OffsetReader } from "../paging/offset-reader";
import {
  configuredCredential,
  formatSourceKey,
  type InkitListingName,
  parseSourceKey,
  resourceName,
  type SourceKey,
} from "../providers/catalog";
import { eightByEightSource } from "../providers/eightbyeight/source";
import { inkitDocumentBatches, inkitRuns, inkitSource, inkitWorkflowBatches } from "../providers/inkit/source";
import type { Batch } from "../schemas/batch";
import { DEFAULT_INKIT_SORT } from "../schemas/filters";
import type { Run } from "../schemas/run";
import type { UpstreamDeps } from "../upstream/deps";

/** An item change detection watches: a normalized run or batch. */
export type WatchedItem = Run | Batch;

/** The upstream dependencies a provider Source is built from: the same ones the list routes use. */
export type SourceDeps = UpstreamDeps;

/**
 * The provider sources' dependencies for background work (cron, inbound pushes). Reads bypass cached entries, so
 * a change is seen as soon as the upstream shows it, and store what they fetched, which refreshes the listings'
 * cache for the routes.
 */
export function sourceDeps(env: Env, waitUntil: (promise: Promise<unknown>) => void): SourceDeps {
  return { env, cache: new RequestCache(env, waitUntil, { bypass: true }) };
}

/** A watched listing: what it holds and how to read it. */
export interface SourceSpec {
  /** The canonical source key (see the catalog), also the `resource` of its cached listings. */
  key: string;
  source: SourceKey;
  kind: "run" | "batch";
  /** The newest-first Source over this listing, with the deployment's configured credential. */
  open(deps: SourceDeps, env: Env): OffsetReader<WatchedItem>;
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

const byCreation = { sort: DEFAULT_INKIT_SORT };

const openInkit: Record<InkitListingName, (deps: SourceDeps, env: Env) => OffsetReader<WatchedItem>> = {
  runs: (deps, env) => inkitSource(deps, inkitRuns, byCreation, configuredCredential(env, "inkit")),
  "workflow-batches": (deps, env) =>
    inkitSource(deps, inkitWorkflowBatches, byCreation, configuredCredential(env, "inkit")),
  batches: (deps, env) => inkitSource(deps, inkitDocumentBatches, byCreation, configuredCredential(env, "inkit")),
};

/** The spec of a source key (any accepted spelling), or null when it names no source. */
export function sourceSpec(text: string): SourceSpec | null {
  const source = parseSourceKey(text);
  if (source === null) return null;
  const key = formatSourceKey(source);
  if (source.provider === "inkit") {
    return { key, source, kind: source.listing === "runs" ? "run" : "batch", open: openInkit[source.listing] };
  }
  const filters = { account_id: source.accountId, definition_id: source.definitionId };
  return {
    key,
    source,
    kind: "run",
    open: (deps, env) => eightByEightSource(deps, filters, configuredCredential(env, "8x8")),
  };
}
