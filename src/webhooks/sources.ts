import { invalidateListings, RequestCache } from "../cache/request-cache";
import type { Source } from "../paging/source";
import type { Credential } from "../providers/credentials";
import type { UpstreamDeps } from "../providers/deps";
import { eightByEightSource } from "../providers/eightbyeight/source";
import { inkitDocumentBatches, inkitRuns, inkitSource, inkitWorkflowBatches } from "../providers/inkit/source";
import type { Batch } from "../schemas/batch";
import { DEFAULT_INKIT_SORT } from "../schemas/filters";
import type { Run } from "../schemas/run";

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

/** Drops the cached listings of a source read with the deployment's configured credential. */
export async function invalidateSource(env: Env, spec: SourceSpec): Promise<void> {
  await invalidateListings(env, {
    provider: spec.provider,
    credential: configuredCredential(env, spec.provider),
    resource: spec.key,
  });
}

export const INKIT_SOURCE_KEYS = ["inkit:runs", "inkit:workflow-batches", "inkit:batches"] as const;

/** A watched listing: what it holds and how to read it. */
export interface SourceSpec {
  /** Also the `resource` of cache invalidation: `inkit:runs`, …, `8x8:<account_id>/<definition_id>`. */
  key: string;
  provider: "inkit" | "8x8";
  kind: "run" | "batch";
  /** The newest-first Source over this listing, with the deployment's configured credential. */
  open(deps: SourceDeps, env: Env): Source<WatchedItem>;
}

const inkitCredential = (env: Env): Credential => ({ value: env.INKIT_API_TOKEN ?? "", passThrough: false });
const eightByEightCredential = (env: Env): Credential => ({
  value: env.EIGHTBYEIGHT_API_KEY ?? "",
  passThrough: false,
});

/** The configured credential of a provider: the one detection reads with and whose cached listings it invalidates. */
export const configuredCredential = (env: Env, provider: "inkit" | "8x8") =>
  provider === "inkit" ? inkitCredential(env) : eightByEightCredential(env);

const byCreation = { sort: DEFAULT_INKIT_SORT };

const inkitSpecs: Record<(typeof INKIT_SOURCE_KEYS)[number], SourceSpec> = {
  "inkit:runs": {
    key: "inkit:runs",
    provider: "inkit",
    kind: "run",
    open: (deps, env) => inkitSource(deps, inkitRuns, byCreation, inkitCredential(env)),
  },
  "inkit:workflow-batches": {
    key: "inkit:workflow-batches",
    provider: "inkit",
    kind: "batch",
    open: (deps, env) => inkitSource(deps, inkitWorkflowBatches, byCreation, inkitCredential(env)),
  },
  "inkit:batches": {
    key: "inkit:batches",
    provider: "inkit",
    kind: "batch",
    open: (deps, env) => inkitSource(deps, inkitDocumentBatches, byCreation, inkitCredential(env)),
  },
};

const EIGHT_BY_EIGHT_KEY =
  /^8x8:([A-Za-z0-9._-]{1,128})\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

/** A source key in canonical form (8x8 definition ids lower-cased), or null when it names no source. */
export function canonicalSourceKey(key: string): string | null {
  if (key in inkitSpecs) return key;
  const match = EIGHT_BY_EIGHT_KEY.exec(key);
  return match ? `8x8:${match[1]}/${match[2]?.toLowerCase()}` : null;
}

/** The spec of a source key, or null when it names no source. */
export function sourceSpec(key: string): SourceSpec | null {
  const canonical = canonicalSourceKey(key);
  if (canonical === null) return null;
  const inkit = inkitSpecs[canonical as keyof typeof inkitSpecs];
  if (inkit) return inkit;
  const [, account_id = "", definition_id = ""] = EIGHT_BY_EIGHT_KEY.exec(canonical) ?? [];
  return {
    key: canonical,
    provider: "8x8",
    kind: "run",
    open: (deps, env) => eightByEightSource(deps, { account_id, definition_id }, eightByEightCredential(env)),
  };
}

/** The 8x8 definition a source key watches, or null for Inkit sources. */
export function eightByEightDefinition(key: string): { accountId: string; definitionId: string } | null {
  const match = EIGHT_BY_EIGHT_KEY.exec(key);
  return match?.[1] && match[2] ? { accountId: match[1], definitionId: match[2].toLowerCase() } : null;
}

/**
 * The sources of an endpoint created without `sources`: every Inkit listing, plus the 8x8 definitions named in the
 * `DEFAULT_SOURCES` setting (the merged feed's defaults; entries that are not 8x8 source keys are skipped).
 */
export function defaultSourceKeys(env: Env): string[] {
  const configured = ((env as unknown as Partial<Record<string, string>>).DEFAULT_SOURCES ?? "").split(",");
  const eightByEight = configured
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith("8x8:"))
    .map(canonicalSourceKey)
    .filter((key): key is string => key !== null);
  return [...new Set([...INKIT_SOURCE_KEYS, ...eightByEight])];
}
