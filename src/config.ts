import { z } from "@hono/zod-openapi";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "off"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  /**
   * Upstream calls one request may make (`SUBREQUEST_LIMIT`): Workers' subrequest limit per invocation, 50 on the free
   * plan and 10,000 on the paid plan. A request that would need more is refused with a clear 400 instead.
   */
  subrequestLimit: number;
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
  rateLimitPeriodSeconds: 10 | 60;
  /** Origins allowed by CORS; empty (the default) sends no CORS headers at all. */
  corsOrigins: string[];
  /** Largest request body accepted on /v1, in bytes. */
  bodyLimitBytes: number;
  /** `info` logs one line per request; `warn` and `error` keep only problems; `off` nothing. */
  logLevel: LogLevel;
  /** `DEFAULT_SOURCES` as set (parsed by the source catalog, which knows the vocabulary). */
  defaultSources: string | undefined;
  /** New items one check of a source announces at most; a larger backlog continues in the next check. */
  webhookCheckItems: number;
  /** Upstream calls one check of a source may make (retries included): within Workers' subrequest limit. */
  webhookCheckCalls: number;
  /** Days an open item is watched after its creation; one still open then is reported as `*.unwatched`. */
  webhookWatchHorizonDays: number;
  /** Per-attempt delivery timeout (`WEBHOOK_TIMEOUT_MS`). */
  webhookTimeoutMs: number;
  /** How long events, their deliveries and attempts are kept (`WEBHOOK_RETENTION_DAYS`). */
  webhookRetentionDays: number;
  /** The `Retry-After` of the event stream's end: how long a caught-up consumer should wait before polling again. */
  eventStreamPollSeconds: number;
  /** Accept http and private addresses as endpoint URLs: local development and tests only. */
  allowInsecureWebhookUrls: boolean;
  /** The AES key material for stored signing secrets; null (webhooks unavailable) when missing or too short. */
  webhookEncryptionKey: string | null;
}

/** The non-empty, trimmed items of a comma-separated setting. */
export function commaList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

/** An integer var within [min, max]; missing, empty or out of range falls back to the default. */
const int = (fallback: number, min: number, max: number) =>
  z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().int().min(min).max(max)).catch(fallback);

const text = z.string().optional().catch(undefined);

/** Vars as a deployment sets them. Never throws: a bad value falls back to its default, as documented. */
const VarsSchema = z
  .object({
    CURSOR_TTL_SECONDS: int(86_400, 60, 30 * 86_400),
    INKIT_MAX_PAGE_SIZE: int(500, 1, 10_000),
    EIGHTBYEIGHT_MAX_LIMIT: int(500, 1, 500),
    UPSTREAM_TIMEOUT_MS: int(8_000, 100, 60_000),
    CACHE_TTL_LIST_SECONDS: int(15, 0, 3_600),
    CACHE_TTL_ITEM_SECONDS: int(5, 0, 3_600),
    CACHE_STALE_SECONDS: int(60, 0, 3_600),
    CACHE_READ_TIMEOUT_MS: int(150, 1, 10_000),
    UPSTREAM_BUDGET_MS: int(20_000, 100, 120_000),
    SUBREQUEST_LIMIT: int(50, 10, 10_000),
    UPSTREAM_MAX_ATTEMPTS: int(3, 1, 10),
    UPSTREAM_RETRY_BASE_MS: int(200, 0, 10_000),
    UPSTREAM_RETRY_MAX_DELAY_MS: int(2_000, 0, 60_000),
    CIRCUIT_BREAKER_THRESHOLD: int(5, 0, 1_000),
    CIRCUIT_BREAKER_COOLDOWN_MS: int(30_000, 100, 600_000),
    RATE_LIMIT_REQUESTS: int(100, 1, 1_000_000),
    RATE_LIMIT_PERIOD_SECONDS: int(60, 10, 60),
    CORS_ORIGINS: text,
    BODY_LIMIT_BYTES: int(64 * 1024, 1_024, 10 * 1024 * 1024),
    LOG_LEVEL: z
      .string()
      .transform((v) => v.trim().toLowerCase())
      .pipe(z.enum(LOG_LEVELS))
      .catch("info"),
    DEFAULT_SOURCES: text,
    WEBHOOK_CHECK_ITEMS: int(500, 1, 5_000),
    WEBHOOK_CHECK_CALLS: int(40, 16, 1_000),
    WEBHOOK_WATCH_HORIZON_DAYS: int(30, 1, 365),
    WEBHOOK_TIMEOUT_MS: int(15_000, 100, 30_000),
    WEBHOOK_RETENTION_DAYS: int(30, 1, 3650),
    EVENT_STREAM_POLL_SECONDS: int(30, 1, 3_600),
    ALLOW_INSECURE_WEBHOOK_URLS: text,
    WEBHOOK_ENCRYPTION_KEY: text,
  })
  .transform(
    (v): Config => ({
      cursorTtlSeconds: v.CURSOR_TTL_SECONDS,
      inkitMaxPageSize: v.INKIT_MAX_PAGE_SIZE,
      eightByEightMaxLimit: v.EIGHTBYEIGHT_MAX_LIMIT,
      upstreamTimeoutMs: v.UPSTREAM_TIMEOUT_MS,
      cacheListTtlSeconds: v.CACHE_TTL_LIST_SECONDS,
      cacheItemTtlSeconds: v.CACHE_TTL_ITEM_SECONDS,
      cacheStaleSeconds: v.CACHE_STALE_SECONDS,
      cacheReadTimeoutMs: v.CACHE_READ_TIMEOUT_MS,
      upstreamBudgetMs: v.UPSTREAM_BUDGET_MS,
      subrequestLimit: v.SUBREQUEST_LIMIT,
      upstreamMaxAttempts: v.UPSTREAM_MAX_ATTEMPTS,
      upstreamRetryBaseMs: v.UPSTREAM_RETRY_BASE_MS,
      upstreamRetryMaxDelayMs: v.UPSTREAM_RETRY_MAX_DELAY_MS,
      breakerThreshold: v.CIRCUIT_BREAKER_THRESHOLD,
      breakerCooldownMs: v.CIRCUIT_BREAKER_COOLDOWN_MS,
      rateLimitRequests: v.RATE_LIMIT_REQUESTS,
      rateLimitPeriodSeconds: v.RATE_LIMIT_PERIOD_SECONDS === 10 ? 10 : 60,
      corsOrigins: commaList(v.CORS_ORIGINS),
      bodyLimitBytes: v.BODY_LIMIT_BYTES,
      logLevel: v.LOG_LEVEL,
      defaultSources: v.DEFAULT_SOURCES,
      webhookCheckItems: v.WEBHOOK_CHECK_ITEMS,
      webhookCheckCalls: v.WEBHOOK_CHECK_CALLS,
      webhookWatchHorizonDays: v.WEBHOOK_WATCH_HORIZON_DAYS,
      webhookTimeoutMs: v.WEBHOOK_TIMEOUT_MS,
      webhookRetentionDays: v.WEBHOOK_RETENTION_DAYS,
      eventStreamPollSeconds: v.EVENT_STREAM_POLL_SECONDS,
      allowInsecureWebhookUrls: v.ALLOW_INSECURE_WEBHOOK_URLS === "true",
      webhookEncryptionKey: (v.WEBHOOK_ENCRYPTION_KEY ?? "").length >= 32 ? (v.WEBHOOK_ENCRYPTION_KEY as string) : null,
    }),
  );

/** Every tunable at its default: for code that runs with no deployment's vars at hand. */
export const DEFAULT_CONFIG: Config = VarsSchema.parse({});

// Parsed once per isolate and env object: the env of a deployment does not change while an isolate lives.
const parsed = new WeakMap<object, Config>();

/**
 * The deployment's tunables; a missing or out-of-range var falls back to its default.
 * @example configOf(c.env).upstreamTimeoutMs // 8000
 */
export function configOf(env: Env): Config {
  let config = parsed.get(env);
  if (!config) {
    config = VarsSchema.parse({ ...env });
    parsed.set(env, config);
  }
  return config;
}
