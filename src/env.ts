import type { RequestCache } from "./cache/request-cache";

/** The caller, once authenticated: a stable, non-reversible id for its API key. */
export interface Caller {
  /** Hex SHA-256 of the API key, truncated: safe to log and to bind cursors and cache entries to. */
  keyId: string;
}

/** Hono environment of the app: bindings come from `wrangler types` (worker-configuration.d.ts). */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    caller: Caller;
    cache: RequestCache;
  };
}

/** Tunables read from vars, with defaults. Every one is documented in the README. */
export interface Config {
  cursorTtlSeconds: number;
  inkitMaxPageSize: number;
  eightByEightMaxLimit: number;
  upstreamTimeoutMs: number;
  /** Freshness of cached list pages; 0 turns list caching off. */
  cacheListTtlSeconds: number;
  /** Freshness of cached single items; 0 turns item caching off. */
  cacheItemTtlSeconds: number;
  /** How long past freshness a stale entry is still served while one background refresh runs. */
  cacheStaleSeconds: number;
  /** A KV read slower than this is abandoned and the request served from the upstream. */
  cacheReadTimeoutMs: number;
  /** Upstream time one request may spend in all, attempts and back-off waits included. */
  upstreamBudgetMs: number;
  /** Attempts per upstream GET (1 = no retries). Only network errors, 5xx and 429 are retried. */
  upstreamMaxAttempts: number;
  /** Base of the full-jitter exponential back-off between attempts. */
  upstreamRetryBaseMs: number;
  /** Cap of one back-off wait (a longer Retry-After is honoured only within the budget). */
  upstreamRetryMaxDelayMs: number;
  /** Consecutive failed upstream GETs (after their retries) that open an upstream's circuit; 0 turns it off. */
  breakerThreshold: number;
  /** How long an open circuit answers 503 at once before one probe is let through. */
  breakerCooldownMs: number;
  /** Requests per API key and window: the `[[ratelimits]]` binding's `simple.limit`, for the headers. */
  rateLimitRequests: number;
  /** The window: the binding's `simple.period` (10 or 60), for the headers. */
  rateLimitPeriodSeconds: number;
  /** Origins allowed by CORS; empty (the default) sends no CORS headers at all. */
  corsOrigins: string[];
  /** Largest request body accepted on /v1, in bytes. */
  bodyLimitBytes: number;
  /** `info` logs one line per request; `warn` and `error` keep only problems; `off` nothing. */
  logLevel: LogLevel;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error", "off"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The bindings as plain optional strings: a var may be unset on a deployment. */
export const optionalVars = (env: Env) => env as unknown as Partial<Record<string, string>>;

/** The non-empty, trimmed items of a comma-separated setting. */
export function commaList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

/** An integer var within [min, max]; missing or out of range falls back to the default. */
export function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optionalVars(env)[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

function listVar(env: Env, name: string): string[] {
  return commaList(optionalVars(env)[name]);
}

function enumVar<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = optionalVars(env)[name]?.trim().toLowerCase();
  return values.find((v) => v === raw) ?? fallback;
}

/** Reads the tunables; a missing or out-of-range var falls back to its default. */
export function readConfig(env: Env): Config {
  return {
    cursorTtlSeconds: intVar(env, "CURSOR_TTL_SECONDS", 86_400, 60, 30 * 86_400),
    inkitMaxPageSize: intVar(env, "INKIT_MAX_PAGE_SIZE", 500, 1, 10_000),
    eightByEightMaxLimit: intVar(env, "EIGHTBYEIGHT_MAX_LIMIT", 500, 1, 500),
    upstreamTimeoutMs: intVar(env, "UPSTREAM_TIMEOUT_MS", 8_000, 100, 60_000),
    cacheListTtlSeconds: intVar(env, "CACHE_TTL_LIST_SECONDS", 15, 0, 3_600),
    cacheItemTtlSeconds: intVar(env, "CACHE_TTL_ITEM_SECONDS", 5, 0, 3_600),
    cacheStaleSeconds: intVar(env, "CACHE_STALE_SECONDS", 60, 0, 3_600),
    cacheReadTimeoutMs: intVar(env, "CACHE_READ_TIMEOUT_MS", 150, 1, 10_000),
    upstreamBudgetMs: intVar(env, "UPSTREAM_BUDGET_MS", 20_000, 100, 120_000),
    upstreamMaxAttempts: intVar(env, "UPSTREAM_MAX_ATTEMPTS", 3, 1, 10),
    upstreamRetryBaseMs: intVar(env, "UPSTREAM_RETRY_BASE_MS", 200, 0, 10_000),
    upstreamRetryMaxDelayMs: intVar(env, "UPSTREAM_RETRY_MAX_DELAY_MS", 2_000, 0, 60_000),
    breakerThreshold: intVar(env, "CIRCUIT_BREAKER_THRESHOLD", 5, 0, 1_000),
    breakerCooldownMs: intVar(env, "CIRCUIT_BREAKER_COOLDOWN_MS", 30_000, 100, 600_000),
    rateLimitRequests: intVar(env, "RATE_LIMIT_REQUESTS", 100, 1, 1_000_000),
    rateLimitPeriodSeconds: intVar(env, "RATE_LIMIT_PERIOD_SECONDS", 60, 10, 60) === 10 ? 10 : 60,
    corsOrigins: listVar(env, "CORS_ORIGINS"),
    bodyLimitBytes: intVar(env, "BODY_LIMIT_BYTES", 64 * 1024, 1_024, 10 * 1024 * 1024),
    logLevel: enumVar(env, "LOG_LEVEL", LOG_LEVELS, "info"),
  };
}
