import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { passThroughHeaders } from "../../providers/credentials";
import type { AppEnv } from "../app-env";
import { CACHE_NAME, freshFor, VARY } from "./freshness";
import { cacheDirectives } from "./listing-cache";
import { dropReadyPage, findReadyPage, keepReadyPage, type ReadyPage, readyPageKey } from "./response-cache";
import { servedBody } from "./served-body";

/**
 * The headers a ready page is sent again with at `now`: its `ETag` and `Link`, and how fresh it still is.
 * @example readyPageHeaders(page, Date.now())["Cache-Status"] // "tributary; hit; ttl=42"
 */
export function readyPageHeaders(page: ReadyPage, now: number): Record<string, string> {
  const ttl = Math.max(0, Math.floor((page.freshUntil - now) / 1000));
  return {
    ETag: page.etag,
    ...(page.link ? { Link: page.link } : {}),
    Vary: VARY,
    "Cache-Status": `${CACHE_NAME}; hit; ttl=${ttl}`,
    Age: String(Math.max(0, Math.floor((now - page.fetchedAt) / 1000))),
    "Cache-Control": `private, max-age=${ttl}`,
  };
}

/** Who asks for what (see readyPageKey): the caller, the upstream credentials it passes through, and the URL. */
const keyOf = (c: Context<AppEnv>) =>
  readyPageKey(
    c.get("caller")?.tenant ?? "",
    Object.values(passThroughHeaders).map((name) => c.req.header(name)),
    c.req.url,
  );

/**
 * Sends a page served from cache a moment ago again as it was, if every read it came from still holds; keeps each
 * successful GET answered from cache reads as such a page, and drops it once a `no-cache` request refreshed them.
 * `no-store` requests neither find nor keep one.
 */
export const readyPages = createMiddleware<AppEnv>(async (c, next) => {
  const kv = c.env.CACHE as KVNamespace | undefined;
  const { store, bypass } = cacheDirectives(c.req.header("Cache-Control"));
  const key = c.req.method === "GET" && store && kv ? await keyOf(c) : null;
  const cache = c.get("cache");
  const now = Date.now();
  const ready = key && kv && !bypass ? findReadyPage(kv, key, now, (k) => cache.currentGeneration(k)) : undefined;
  if (ready) {
    // Through the context, like a route's response: it also carries the headers earlier middleware set for this
    // request (X-Request-Id, RateLimit-Policy).
    c.res = c.body(ready.body, 200, { "Content-Type": "application/json", ...readyPageHeaders(ready, now) });
    return;
  }
  await next();
  const { outcomes } = cache;
  if (!key || !kv || c.res.status !== 200 || outcomes.length === 0) return;
  const ttl = freshFor(outcomes);
  if (bypass) dropReadyPage(kv, key);
  else if (ttl > 0 && !cache.throughConnection && outcomes.every((o) => o.status === "hit" || o.status === "miss")) {
    keepReadyPage(kv, key, {
      body: (await servedBody(c)).text,
      etag: c.res.headers.get("ETag") as string,
      link: c.res.headers.get("Link"),
      fetchedAt: Math.min(...outcomes.map((o) => o.fetchedAt)),
      freshUntil: now + ttl * 1000,
      generations: [...cache.generations],
    });
  }
});
