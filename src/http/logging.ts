import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { currentUpstreamScope } from "../upstream/scope";

/**
 * One structured JSON line per request: method, path (never the query string: it carries cursors and may
 * carry credentials), status, duration, request id, the caller's key id (a truncated hash, never the key)
 * and how many upstream attempts were made. Headers are never logged. 5xx lines are `error`, 4xx `warn`.
 * Runs inside `upstreamScope`, whose attempt count it reports.
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  await next();
  const status = c.res.status;
  const level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
  const log = c.get("log");
  if (!log.enabled(level)) return;
  log[level]("request", {
    method: c.req.method,
    path: c.req.path.slice(0, 256),
    status,
    duration_ms: Date.now() - started,
    request_id: c.get("requestId") ?? null,
    key_id: c.get("caller")?.keyId ?? null,
    upstream_attempts: currentUpstreamScope()?.attempts ?? 0,
  });
});
