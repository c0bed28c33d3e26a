import { createMiddleware } from "hono/factory";
import type { CacheOutcome } from "../../cache/request-cache";
import { passThroughHeaders } from "../../providers/credentials";
import type { AppEnv } from "../app-env";

export const CACHE_NAME = "tributary";

/** Answers differ by caller and by the upstream credentials a caller may pass through. */
export const VARY = ["Authorization", ...Object.values(passThroughHeaders)].join(", ");

/** RFC 9211 Cache-Status for a response built from one or more upstream reads. */
export function cacheStatus(outcomes: CacheOutcome[]): string {
  const ttl = Math.min(...outcomes.map((o) => o.ttl));
  const stored = outcomes.some((o) => o.stored) ? "; stored" : "";
  if (outcomes.some((o) => o.status === "error")) return `${CACHE_NAME}; fwd=miss; detail=cache-unavailable`;
  if (outcomes.some((o) => o.status === "bypass")) return `${CACHE_NAME}; fwd=request${stored}; ttl=${ttl}`;
  if (outcomes.some((o) => o.status === "miss")) return `${CACHE_NAME}; fwd=miss${stored}; ttl=${ttl}`;
  if (outcomes.some((o) => o.status === "stale")) return `${CACHE_NAME}; hit; ttl=${ttl}; detail=stale`;
  return `${CACHE_NAME}; hit; ttl=${ttl}`;
}

/** Seconds an answer built from these reads stays fresh: as long as the least fresh of them. */
export const freshFor = (outcomes: CacheOutcome[]): number => Math.max(0, Math.min(...outcomes.map((o) => o.ttl)));

/**
 * `Cache-Status`, `Age` and `Cache-Control` of an answer built from these upstream reads; one that read none (a
 * D1-backed route, say) is `private, no-cache`.
 * @example freshnessHeaders([]) // { "Cache-Control": "private, no-cache" }
 */
export function freshnessHeaders(outcomes: CacheOutcome[]): Record<string, string> {
  if (outcomes.length === 0) return { "Cache-Control": "private, no-cache" };
  return {
    "Cache-Status": cacheStatus(outcomes),
    Age: String(Math.max(...outcomes.map((o) => o.age))),
    "Cache-Control": `private, max-age=${freshFor(outcomes)}`,
  };
}

/** Says how a successful GET was served and how long it may be kept: `Vary` and the freshness headers. */
export const freshness = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method !== "GET" || c.res.status !== 200) return;
  c.res.headers.append("Vary", VARY);
  for (const [name, value] of Object.entries(freshnessHeaders(c.get("cache").outcomes))) c.res.headers.set(name, value);
});
