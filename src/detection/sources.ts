import { invalidateListings, RequestCache } from "../cache/request-cache";
import type { UpstreamDeps } from "../cache/upstream-deps";
import type { OffsetReader } from "../paging/offset-reader";
import { configuredCredential } from "../providers/credentials";
import { versionOf } from "../providers/eightbyeight/source";
import { openReader } from "../providers/readers";
import type { EightByEightRunNormalized } from "../schemas/run";
import { formatSourceKey, parseSourceKey, resourceName, type SourceKey } from "../schemas/sources";
import type { Credential } from "../upstream/credential";
import type { ItemKind, WatchedItem } from "./changes";
import { type LookupRequest, type LookupResult, lookupFor } from "./lookups";

export type { WatchedItem };

/**
 * The upstream dependencies a source's reader is opened with: the same ones the list routes use, and where background
 * work that must outlive the check goes (recording a connection's use).
 */
export type SourceDeps = UpstreamDeps & { waitUntil: (promise: Promise<unknown>) => void };

/**
 * The provider sources' dependencies for background work (cron, queue, inbound pushes). Reads go to the upstream
 * (a change is seen as soon as the upstream shows it) and are not stored: detection reads far more than any route
 * would reuse, and routes read the listings themselves.
 */
export function sourceDeps(env: Env, waitUntil: (promise: Promise<unknown>) => void): SourceDeps {
  return { env, cache: new RequestCache(env, waitUntil, { bypass: true, store: false }), waitUntil };
}

/** A watched listing: what it holds and how to read it. */
export interface SourceSpec {
  /** The source's canonical name (schemas/sources.ts), also the `resource` of its cached listings. */
  name: string;
  /** The same source, parsed. */
  key: SourceKey;
  kind: ItemKind;
  /**
   * The newest-first listing (creation order), read with `credential` (the connection's, or the deployment's). 8x8:
   * one definition `version`, or the latest (the upstream's default) when null.
   */
  open(deps: SourceDeps, credential: Credential, version?: string | null): OffsetReader<WatchedItem>;
  /** Reads the watched open items again (see detection/lookups.ts). */
  lookup(req: LookupRequest): Promise<LookupResult>;
  /** The upstream version an item belongs to (8x8 definition versions), kept with its watch. */
  versionOf(item: WatchedItem): string | null;
}

/** Drops the cached listings of a source read with the deployment's configured credential. */
export async function invalidateSource(env: Env, spec: SourceSpec): Promise<void> {
  const { key } = spec;
  await invalidateListings(env, {
    provider: key.provider,
    credential: configuredCredential(env, key.provider),
    resource: resourceName(key),
  });
}

/** The spec of a source key (any accepted spelling), or null when it names no source. */
export function sourceSpec(text: string): SourceSpec | null {
  const key = parseSourceKey(text);
  if (key === null) return null;
  return {
    name: formatSourceKey(key),
    key,
    kind: key.provider === "inkit" && key.listing !== "runs" ? "batch" : "run",
    open: (deps, credential, version = null) => openReader(key, deps, { credential, version }),
    lookup: lookupFor(key),
    versionOf: (item) => (key.provider === "8x8" ? versionOf(item as EightByEightRunNormalized) : null),
  };
}
