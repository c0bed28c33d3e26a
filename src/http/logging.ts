import { createMiddleware } from "hono/factory";
import { type AppEnv, type LogLevel, readConfig } from "../env";
import { currentUpstreamScope } from "./upstream-scope";

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };

/** Whether a line of `level` passes the configured `LOG_LEVEL`. */
export const logs = (env: Env, level: Exclude<LogLevel, "off">) => rank[level] >= rank[readConfig(env).logLevel];

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
  if (!logs(c.env, level)) return;
  const line = {
    level,
    msg: "request",
    method: c.req.method,
    path: c.req.path.slice(0, 256),
    status,
    duration_ms: Date.now() - started,
    request_id: c.get("requestId") ?? null,
    key_id: c.get("caller")?.keyId ?? null,
    upstream_attempts: currentUpstreamScope()?.attempts ?? 0,
  };
  const write = level === "error" ? console.error : level === "warn" ? console.warn : console.log;
  write(JSON.stringify(line));
});
