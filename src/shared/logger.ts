import { configIssues, configOf, type LogLevel } from "../config";

export type LineLevel = Exclude<LogLevel, "off">;

/** Structured JSON lines, one per call, kept only when `level` passes the configured `LOG_LEVEL`. */
export interface Logger {
  enabled(level: LineLevel): boolean;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };

/**
 * `JSON.stringify({ level, msg, ...fields })` without copying `fields` into a new object (one line per request): the
 * same text, `level` and `msg` first.
 */
function lineOf(level: LineLevel, msg: string, fields: Record<string, unknown>): string {
  if ("level" in fields || "msg" in fields) return JSON.stringify({ level, msg, ...fields });
  const rest = JSON.stringify(fields);
  const head = `{"level":"${level}","msg":${JSON.stringify(msg)}`;
  return rest === "{}" ? `${head}}` : `${head},${rest.slice(1)}`;
}

function createLogger(threshold: LogLevel): Logger {
  const line =
    (level: LineLevel) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (rank[level] < rank[threshold]) return;
      const write = level === "error" ? console.error : level === "warn" ? console.warn : console.log;
      write(lineOf(level, msg, fields));
    };
  return {
    enabled: (level) => rank[level] >= rank[threshold],
    debug: line("debug"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
  };
}

const loggers = new Map<LogLevel, Logger>();
// Environments whose misconfigured vars were reported: an env lives as long as its isolate, so once per isolate.
const reported = new WeakSet<object>();

/**
 * The logger of a deployment (its `LOG_LEVEL`), for code that runs outside a request; requests use `c.get("log")`.
 * The first call for an env reports its misconfigured vars (`configIssues`), one `warn` line each.
 * @example loggerOf(env).warn("cache write failed", { error: String(err) })
 */
export function loggerOf(env: Env): Logger {
  const level = configOf(env).logLevel;
  let logger = loggers.get(level);
  if (!logger) {
    logger = createLogger(level);
    loggers.set(level, logger);
  }
  if (!reported.has(env)) {
    reported.add(env);
    for (const issue of configIssues(env)) logger.warn("configuration", { ...issue });
  }
  return logger;
}
