import { createMiddleware } from "hono/factory";
import { RequestCache } from "../../cache/request-cache";
import type { AppEnv } from "../app-env";

const NO_STORE = /(^|,)\s*no-store\s*(,|$)/i;
const NO_CACHE = /(^|,)\s*no-cache\s*(,|$)/i;
/** A request without `Cache-Control`: the cache as it is. */
const DEFAULT_DIRECTIVES: Readonly<{ store: boolean; bypass: boolean }> = Object.freeze({ store: true, bypass: false });

/**
 * What a request's `Cache-Control` asks of the listing cache: `no-cache` refreshes from the upstream (`bypass`);
 * `no-store` (RFC 9111 5.2.1.5) also goes straight to the upstream, and nothing of the answer is kept.
 * @example cacheDirectives("no-cache") // { store: true, bypass: true }
 */
export function cacheDirectives(cacheControl: string | undefined): { store: boolean; bypass: boolean } {
  if (cacheControl === undefined) return DEFAULT_DIRECTIVES;
  const store = !NO_STORE.test(cacheControl);
  return { store, bypass: !store || NO_CACHE.test(cacheControl) };
}

/** Gives each request its own view of the listing cache (`c.var.cache`), as its `Cache-Control` asks. */
export const listingCache = createMiddleware<AppEnv>(async (c, next) => {
  const directives = cacheDirectives(c.req.header("Cache-Control"));
  c.set("cache", new RequestCache(c.env, (p) => c.executionCtx.waitUntil(p), directives));
  await next();
});
