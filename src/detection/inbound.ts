import { INKIT_SOURCE_KEYS, parseSourceKey } from "../schemas/sources";
import { loggerOf } from "../shared/logger";
import { cacheBound } from "../storage/readiness";
import { type CheckResult, checkSource } from "./check";
import { invalidateSource, type SourceDeps, type SourceSpec, sourceSpec } from "./sources";
import { watchedSources } from "./store";

/** What an inbound push did to one source. */
interface RecheckResult {
  source: string;
  /** `not_watched`: its cache was invalidated, but no enabled endpoint watches it, so there is nothing to diff. */
  outcome: CheckResult["outcome"] | "not_watched";
  events: number;
}

/**
 * The Inkit listings an Inkit webhook may concern, from its resource id's prefix: a render (`rend_`) is a run and
 * may move its workflow batch; `fb_`/`rb_` are workflow/document batches; anything else (documents, mail pieces)
 * may touch any of them.
 */
export function inkitSourcesFor(resourceId: string): string[] {
  if (resourceId.startsWith("rend_")) return ["inkit:runs", "inkit:workflow-batches"];
  if (resourceId.startsWith("fb_")) return ["inkit:workflow-batches"];
  if (resourceId.startsWith("rb_")) return ["inkit:batches"];
  return [...INKIT_SOURCE_KEYS];
}

/** The watched 8x8 sources of a definition (any account unless given). */
export function eightByEightSourcesFor(watched: string[], definitionId: string, accountId?: string): string[] {
  const definition = definitionId.toLowerCase();
  return watched.filter((key) => {
    const d = parseSourceKey(key);
    return (
      d?.provider === "8x8" && d.definitionId === definition && (accountId === undefined || d.accountId === accountId)
    );
  });
}

/**
 * Drops the source's cached listings, failing open like the listing cache: without the `CACHE` binding nothing is
 * cached, and when KV fails the entries still expire within their TTL, so the re-check goes ahead either way.
 */
async function invalidate(env: Env, spec: SourceSpec): Promise<void> {
  if (!cacheBound(env)) return;
  try {
    await invalidateSource(env, spec);
  } catch (err) {
    loggerOf(env).warn("cache invalidation failed", { source: spec.name, error: String(err) });
  }
}

/**
 * Invalidates the cached listings of the given sources (configured credential), then re-checks at once those that
 * an enabled endpoint watches, reading the `named` items again whatever their state (the push concerns them). A
 * failing check is reported, not thrown: the next cron tick catches up.
 */
export async function recheckSources(
  env: Env,
  deps: SourceDeps,
  keys: string[],
  named: string[] = [],
): Promise<RecheckResult[]> {
  const watched = new Set(await watchedSources(env.DB));
  const results: RecheckResult[] = [];
  for (const key of keys) {
    const spec = sourceSpec(key);
    if (!spec) continue;
    await invalidate(env, spec);
    if (!watched.has(spec.name)) {
      results.push({ source: spec.name, outcome: "not_watched", events: 0 });
      continue;
    }
    try {
      const result = await checkSource(env, deps, spec.name, { named });
      results.push({ source: spec.name, outcome: result.outcome, events: result.events });
    } catch (err) {
      loggerOf(env).error("inbound re-check failed", { source: key, error: String(err) });
      results.push({ source: spec.name, outcome: "error", events: 0 });
    }
  }
  return results;
}
