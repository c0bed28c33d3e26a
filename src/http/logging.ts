import { createMiddleware } from "hono/factory";
import type { ProviderTime } from "../observability/telemetry";
import { currentUpstreamScope } from "../upstream/scope";
import type { AppEnv } from "./app-env";
import { cacheOutcomeOf } from "./observe";

/** One figure per provider, as an object for the log line: `{}` when the request called none. */
function perProvider(providers: Map<string, ProviderTime> | undefined, figure: (t: ProviderTime) => number) {
  const out: Record<string, number> = {};
  if (providers) for (const [name, t] of providers) out[name] = figure(t);
  return out;
}

/**
 * One structured JSON line per request: method, path (never the query string: it carries cursors and may
 * carry credentials), status, duration, request id, the caller's key id (a truncated hash, never the key)
 * how many upstream attempts were made, in all and per provider with their time, how the listing cache served it,
 * and the Analytics Engine points written and dropped. Headers are never logged. 5xx lines are `error`, 4xx `warn`.
 * Runs inside `upstreamScope`, whose attempts it reports, and outside `observe`, which writes the points.
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  await next();
  const status = c.res.status;
  const level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
  const log = c.get("log");
  if (!log.enabled(level)) return;
  const scope = currentUpstreamScope();
  const providers = scope?.telemetry.byProvider();
  log[level]("request", {
    method: c.req.method,
    path: c.req.path.slice(0, 256),
    status,
    duration_ms: Date.now() - started,
    request_id: c.get("requestId") ?? null,
    key_id: c.get("caller")?.tenant ?? null,
    upstream_attempts: scope?.attempts ?? 0,
    upstream_calls: perProvider(providers, (t) => t.calls),
    upstream_ms: perProvider(providers, (t) => Math.round(t.ms)),
    cache: cacheOutcomeOf(c),
    points_written: scope?.telemetry.written ?? 0,
    points_dropped: scope?.telemetry.dropped ?? 0,
  });
});
