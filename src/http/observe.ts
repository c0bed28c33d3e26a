import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import { analyticsOf } from "../observability/dataset";
import { serverTiming } from "../observability/server-timing";
import { budgetFields, type CacheOutcomeName, point, statusClass } from "../observability/telemetry";
import { currentUpstreamScope } from "../upstream/scope";
import type { AppEnv } from "./app-env";

/** The route a request matched, as declared (`/v1/inkit/batches/:batch_id`): never ids, queries or cursors. */
function routeOf(c: Context<AppEnv>): string {
  const path = routePath(c, -1);
  return path.includes("*") ? "unmatched" : path;
}

/**
 * How the listing cache served the request as a whole: `bypass` when any read went around it, `miss` when any read
 * had to go upstream (a cache that failed to answer counts as a miss, as in `Cache-Status`), `stale`, `hit`, or
 * `none` when nothing was read through it.
 */
export function cacheOutcomeOf(c: Context<AppEnv>): CacheOutcomeName {
  const outcomes = c.get("cache")?.outcomes ?? [];
  const any = (...statuses: string[]) => outcomes.some((o) => statuses.includes(o.status));
  if (any("bypass")) return "bypass";
  if (any("miss", "error")) return "miss";
  if (any("stale")) return "stale";
  if (any("hit")) return "hit";
  // A read whose upstream call failed records no outcome: its calls say how the cache sent them.
  const call = currentUpstreamScope()?.telemetry.calls[0];
  if (call && call.cache !== "none") return call.cache;
  // A page sent again whole from the cache (src/http/caching/ready-pages.ts) reads nothing: its Cache-Status says so.
  return c.res.headers.get("Cache-Status")?.startsWith("tributary; hit") ? "hit" : "none";
}

/**
 * Observability of every `/v1` answer, problems included: a `Server-Timing` header (upstream time and calls per
 * provider, the cache outcome, the total), then one Analytics Engine point per upstream call and one for the request
 * (when the `ANALYTICS` binding is there). Runs inside `upstreamScope`, whose telemetry it reads.
 */
export const observe = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  const telemetry = currentUpstreamScope()?.telemetry;
  const route = routeOf(c);
  if (telemetry) telemetry.route = route;
  await next();
  if (!telemetry || !(c.req.path === "/v1" || c.req.path.startsWith("/v1/"))) return;
  const cache = cacheOutcomeOf(c);
  const total = performance.now() - started;
  const timing = serverTiming(telemetry.byProvider(), cache, total, telemetry.budgets.values());
  try {
    c.res.headers.set("Server-Timing", timing);
  } catch {
    // An immutable response (one passed through as fetched): copy it once.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set("Server-Timing", timing);
  }
  const status = c.res.status;
  telemetry.flush(analyticsOf(c.env), (dropped) =>
    point({
      kind: "request",
      index: route,
      route,
      cache,
      statusClass: statusClass(status),
      durationMs: total,
      status,
      calls: telemetry.calls.length,
      dropped,
      ...budgetFields(telemetry),
    }),
  );
});
