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
}

const optionalVars = (env: Env) => env as unknown as Partial<Record<string, string>>;

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optionalVars(env)[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value >= min && value <= max ? value : fallback;
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
  };
}
