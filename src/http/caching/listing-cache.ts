import { createMiddleware } from "hono/factory";
import { RequestCache } from "../../cache/request-cache";
import type { AppEnv } from "../app-env";

/**
 * What a request's `Cache-Control` asks of the listing cache: `no-cache` refreshes from the upstream (`bypass`);
 * `no-store` (RFC 9111 5.2.1.5) also goes straight to the upstream, and nothing of the answer is kept.
 * @example cacheDirectives("no-cache") // { store: true, bypass: true }
 */
export function cacheDirectives(cacheControl: string | undefined): { store: boolean; bypass: boolean } {
  const directives = cacheControl ?? "";
  const has = (name: string) => new RegExp(`(^|,)\\s*${name}\\s*(,|$)`, "i").test(directives);
  const store = !has("no-store");
  return { store, bypass: !store || has("no-cache") };
}

/** Gives each request its own view of the listing cache (`c.var.cache`), as its `Cache-Control` asks. */
export const listingCache = createMiddleware<AppEnv>(async (c, next) => {
  const directives = cacheDirectives(c.req.header("Cache-Control"));
  c.set("cache", new RequestCache(c.env, (p) => c.executionCtx.waitUntil(p), directives));
  await next();
});
