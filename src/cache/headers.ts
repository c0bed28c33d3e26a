import { createMiddleware } from "hono/factory";
import { configOf } from "../config";
import type { AppEnv } from "../env";
import { entityTag, ifNoneMatchMatches } from "./etag";
import { type CacheOutcome, RequestCache } from "./request-cache";

const CACHE_NAME = "tributary";

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

/**
 * Gives each request its own view of the listing cache, then describes how the answer was served:
 * `Cache-Status`, `Age` and `Cache-Control`, an `ETag` on every successful GET (weak on list pages, see
 * entityTag), and 304 for a matching `If-None-Match`. `Cache-Control: no-cache` on the request refreshes from
 * the upstream; a refresh that finds the same data keeps the ETag, so a client's revalidation still gets a 304.
 * `no-store` reads from the upstream and writes nothing to the cache.
 */
export const cacheLayer = createMiddleware<AppEnv>(async (c, next) => {
  const directives = c.req.header("Cache-Control") ?? "";
  const has = (name: string) => new RegExp(`(^|,)\\s*${name}\\s*(,|$)`, "i").test(directives);
  // no-store (RFC 9111 5.2.1.5): straight to the upstream, and nothing of the answer is kept.
  const store = !has("no-store");
  const cache = new RequestCache(c.env, (p) => c.executionCtx.waitUntil(p), {
    bypass: !store || has("no-cache"),
    store,
  });
  c.set("cache", cache);
  await next();
  if (c.req.method !== "GET" || c.res.status !== 200) return;

  const body = await c.res.clone().text();
  const etag = await entityTag(body, configOf(c.env).cursorTtlSeconds);
  const headers = new Headers(c.res.headers);
  headers.set("ETag", etag);
  headers.append("Vary", "Authorization, X-Inkit-API-Token, X-8x8-Api-Key");
  if (cache.outcomes.length > 0) {
    const ttl = Math.max(0, Math.min(...cache.outcomes.map((o) => o.ttl)));
    headers.set("Cache-Status", cacheStatus(cache.outcomes));
    headers.set("Age", String(Math.max(...cache.outcomes.map((o) => o.age))));
    headers.set("Cache-Control", `private, max-age=${ttl}`);
  } else {
    headers.set("Cache-Control", "private, no-cache");
  }
  const ifNoneMatch = c.req.header("If-None-Match");
  if (ifNoneMatch && ifNoneMatchMatches(ifNoneMatch, etag)) {
    headers.delete("Content-Type");
    c.res = new Response(null, { status: 304, headers });
    return;
  }
  c.res = new Response(body, { status: 200, headers });
});
