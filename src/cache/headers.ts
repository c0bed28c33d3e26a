import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { configOf } from "../config";
import type { AppEnv } from "../env";
import { serializedPage } from "../http/list-response";
import { entityTag, ifNoneMatchMatches, pageEntityTag } from "./etag";
import { type CacheOutcome, RequestCache } from "./request-cache";
import { dropReadyPage, findReadyPage, keepReadyPage, readyPageKey } from "./response-cache";

const CACHE_NAME = "tributary";

/** RFC 9211 Cache-Status for a response built from one or more upstream reads. */
function cacheStatus(outcomes: CacheOutcome[]): string {
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
  const bypass = !store || has("no-cache");
  const cache = new RequestCache(c.env, (p) => c.executionCtx.waitUntil(p), { bypass, store });
  c.set("cache", cache);

  // A page served from cache a moment ago is sent again as it was, if every read it came from still holds.
  const kv = c.env.CACHE as KVNamespace | undefined;
  const readyKey =
    c.req.method === "GET" && store && kv
      ? await readyPageKey(
          c.get("caller")?.keyId ?? "",
          [c.req.header("X-Inkit-API-Token"), c.req.header("X-8x8-Api-Key")],
          new URL(c.req.url),
        )
      : null;
  const now = Date.now();
  const ready =
    readyKey && kv && !bypass ? findReadyPage(kv, readyKey, now, (k) => cache.currentGeneration(k)) : undefined;
  if (ready) {
    const ttl = Math.max(0, Math.floor((ready.freshUntil - now) / 1000));
    const headers: Record<string, string> = { ETag: ready.etag };
    if (ready.link) headers.Link = ready.link;
    headers.Vary = VARY;
    headers["Cache-Status"] = `${CACHE_NAME}; hit; ttl=${ttl}`;
    headers.Age = String(Math.max(0, Math.floor((now - ready.fetchedAt) / 1000)));
    headers["Cache-Control"] = `private, max-age=${ttl}`;
    // Through the context, like a route's response: it also carries the headers earlier middleware set for this
    // request (X-Request-Id, RateLimit-Policy).
    c.res = revalidated(c, ready.etag)
      ? c.body(null, 304, headers)
      : c.body(ready.body, 200, { "Content-Type": "application/json", ...headers });
    return;
  }

  await next();
  if (c.req.method !== "GET" || c.res.status !== 200) return;

  // A list page hands over its body as serialized (src/http/list-response.ts): no second read, no second parse.
  const page = serializedPage(c, c.res);
  const ttlSeconds = configOf(c.env).cursorTtlSeconds;
  const body = page ? page.body : await c.res.clone().text();
  const etag = page ? await pageEntityTag(body, page.page, ttlSeconds) : await entityTag(body, ttlSeconds);
  // The route's own response takes the headers where it can (a list page's always): no copy of it and its body.
  const own = page !== undefined;
  const headers = own ? c.res.headers : new Headers(c.res.headers);
  headers.set("ETag", etag);
  headers.append("Vary", VARY);
  const { outcomes } = cache;
  if (outcomes.length > 0) {
    const ttl = Math.max(0, Math.min(...outcomes.map((o) => o.ttl)));
    headers.set("Cache-Status", cacheStatus(outcomes));
    headers.set("Age", String(Math.max(...outcomes.map((o) => o.age))));
    headers.set("Cache-Control", `private, max-age=${ttl}`);
    if (readyKey && kv && bypass) dropReadyPage(kv, readyKey);
    else if (readyKey && kv && ttl > 0 && outcomes.every((o) => o.status === "hit" || o.status === "miss")) {
      keepReadyPage(kv, readyKey, {
        body,
        etag,
        link: c.res.headers.get("Link"),
        fetchedAt: Math.min(...outcomes.map((o) => o.fetchedAt)),
        freshUntil: now + ttl * 1000,
        generations: [...cache.generations],
      });
    }
  } else {
    headers.set("Cache-Control", "private, no-cache");
  }
  if (revalidated(c, etag)) c.res = notModified(headers);
  else if (!own) c.res = new Response(body, { status: 200, headers });
});

const VARY = "Authorization, X-Inkit-API-Token, X-8x8-Api-Key";

/** Whether the request's If-None-Match matches `etag` (weak comparison): the answer is then a 304. */
function revalidated(c: Context<AppEnv>, etag: string): boolean {
  const ifNoneMatch = c.req.header("If-None-Match");
  return ifNoneMatch !== undefined && ifNoneMatchMatches(ifNoneMatch, etag);
}

/** The 304 for a response with these headers, without a body. */
function notModified(headers: Headers): Response {
  const h = new Headers(headers);
  h.delete("Content-Type");
  return new Response(null, { status: 304, headers: h });
}
