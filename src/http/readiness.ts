import type { Context, Next } from "hono";
import { createMiddleware } from "hono/factory";
import { ProblemError } from "../shared/problem";
import { cacheBound, missingStep, type StorageNeed } from "../storage/readiness";
import type { AppEnv } from "./app-env";

/**
 * Wraps a route handler so it first answers a 503 `deployment-incomplete` when its storage is not set up. A
 * wrapper rather than route middleware: it runs after authentication and input validation, so a bad request is
 * still a 400 and an unauthenticated caller learns nothing about the deployment.
 *
 * @example .openapi(routes.list, withStorage(["DB"], handlers.list))
 */
export function withStorage<H extends (c: Context<AppEnv>, next: Next) => unknown>(
  needs: StorageNeed[],
  handler: H,
): H {
  const wrapped = async (c: Context<AppEnv>, next: Next) => {
    const step = await missingStep(c.env, needs);
    if (step !== null) {
      c.get("log").error("deployment incomplete", { path: c.req.path, detail: step });
      throw new ProblemError("deployment-incomplete", { detail: step });
    }
    return handler(c, next);
  };
  return wrapped as unknown as H;
}

const MISSING_CACHE =
  'The KV binding `CACHE` is missing: listings are served from the upstreams without the listing cache. Add a `[[kv_namespaces]]` entry with `binding = "CACHE"` to wrangler.toml (see README, Deploying).';

/**
 * The listing cache fails open: without its KV binding every listing is served from the upstreams (the cache's own
 * read and write failures are caught). Says why on every affected request, naming the binding.
 */
export const warnWithoutCache = createMiddleware<AppEnv>(async (c, next) => {
  if (!cacheBound(c.env)) c.get("log").warn("deployment incomplete", { path: c.req.path, detail: MISSING_CACHE });
  await next();
});
