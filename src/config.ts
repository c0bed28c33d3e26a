import { z } from "@hono/zod-openapi";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "off"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Tunables read from vars, with defaults. Every one is documented in docs/configuration.md. */
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
  /**
   * Sources a feed's first page may read (`FEED_FIRST_PAGE_SOURCES`): each costs a read or two of CPU, and at the
   * default a first page fits the free plan's 10 ms of CPU per invocation. More is refused with a clear 400.
   */
  feedFirstPageSources: number;
  /** Upstream calls per minute one upstream account may make, from every isolate (docs/upstream-budget.md). */
  upstreamAccountCallsPerMinute: number;
  /** The account's largest burst, in seconds of its rate: the token bucket's capacity. */
  upstreamAccountBurstSeconds: number;
  /** Tokens an isolate takes from its account's budget at once, and spends without a round trip. */
  upstreamAccountBatch: number;
  /** The longest a listing waits for its account's budget before it answers 503 `upstream-budget-exhausted`. */
  upstreamAccountWaitMs: number;
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

/** One var: its strict schema, the value used when it is missing or does not parse, and its rule in words. */
interface Setting<T> {
  schema: z.ZodType<T>;
  fallback: T;
  rule: string;
  /** A secret: its value is never shown in a warning. */
  secret?: boolean;
}

const unset = (v: unknown) => (v === "" ? undefined : v);

/** An integer var within [min, max]; missing or empty takes the default, and so does a bad value (with a warning). */
const int = (fallback: number, min: number, max: number): Setting<number> => ({
  schema: z.preprocess(unset, z.coerce.number().int().min(min).max(max)),
  fallback,
  rule: `an integer from ${min} to ${max}`,
});

const text: Setting<string | undefined> = { schema: z.string().optional(), fallback: undefined, rule: "text" };

/** Every var the config reads, with its rule (docs/configuration.md). */
const SETTINGS = {
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
  FEED_FIRST_PAGE_SOURCES: int(20, 1, 100),
  UPSTREAM_ACCOUNT_CALLS_PER_MINUTE: int(300, 1, 600_000),
  UPSTREAM_ACCOUNT_BURST_SECONDS: int(30, 1, 60),
  UPSTREAM_ACCOUNT_BATCH: int(10, 1, 100),
  UPSTREAM_ACCOUNT_WAIT_MS: int(2_000, 0, 60_000),
  UPSTREAM_MAX_ATTEMPTS: int(3, 1, 10),
  UPSTREAM_RETRY_BASE_MS: int(200, 0, 10_000),
  UPSTREAM_RETRY_MAX_DELAY_MS: int(2_000, 0, 60_000),
  CIRCUIT_BREAKER_THRESHOLD: int(5, 0, 1_000),
  CIRCUIT_BREAKER_COOLDOWN_MS: int(30_000, 100, 600_000),
  RATE_LIMIT_REQUESTS: int(100, 1, 1_000_000),
  RATE_LIMIT_PERIOD_SECONDS: {
    schema: z.preprocess(unset, z.coerce.number().pipe(z.union([z.literal(10), z.literal(60)]))),
    fallback: 60,
    rule: "10 or 60",
  } as Setting<10 | 60>,
  CORS_ORIGINS: text,
  BODY_LIMIT_BYTES: int(64 * 1024, 1_024, 10 * 1024 * 1024),
  LOG_LEVEL: {
    schema: z
      .string()
      .transform((v) => v.trim().toLowerCase())
      .pipe(z.enum(LOG_LEVELS)),
    fallback: "info",
    rule: `one of ${LOG_LEVELS.join(", ")}`,
  } as Setting<LogLevel>,
  DEFAULT_SOURCES: text,
  WEBHOOK_CHECK_ITEMS: int(200, 1, 5_000),
  WEBHOOK_CHECK_CALLS: int(40, 16, 1_000),
  WEBHOOK_WATCH_HORIZON_DAYS: int(30, 1, 365),
  WEBHOOK_TIMEOUT_MS: int(15_000, 100, 30_000),
  WEBHOOK_RETENTION_DAYS: int(30, 1, 3650),
  EVENT_STREAM_POLL_SECONDS: int(30, 1, 3_600),
  ALLOW_INSECURE_WEBHOOK_URLS: {
    schema: z.enum(["true", "false"]).transform((v) => v === "true"),
    fallback: false,
    rule: "true or false",
  } as Setting<boolean>,
  WEBHOOK_ENCRYPTION_KEY: {
    schema: z.string().min(32),
    fallback: null,
    rule: "at least 32 characters (else webhook routes answer 503)",
    secret: true,
  } as Setting<string | null>,
};

type Settings = typeof SETTINGS;
type Vars = { [K in keyof Settings]: Settings[K]["fallback"] };

/** Vars as a deployment sets them. Never throws: a bad value falls back to its default (and `configIssues` says so). */
const VarsSchema = z
  .object(
    Object.fromEntries(
      Object.entries(SETTINGS).map(([name, s]) => [name, (s.schema as z.ZodType<unknown>).catch(s.fallback)]),
    ) as unknown as { [K in keyof Settings]: z.ZodType<Vars[K]> },
  )
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
      feedFirstPageSources: v.FEED_FIRST_PAGE_SOURCES,
      upstreamAccountCallsPerMinute: v.UPSTREAM_ACCOUNT_CALLS_PER_MINUTE,
      upstreamAccountBurstSeconds: v.UPSTREAM_ACCOUNT_BURST_SECONDS,
      upstreamAccountBatch: v.UPSTREAM_ACCOUNT_BATCH,
      upstreamAccountWaitMs: v.UPSTREAM_ACCOUNT_WAIT_MS,
      upstreamMaxAttempts: v.UPSTREAM_MAX_ATTEMPTS,
      upstreamRetryBaseMs: v.UPSTREAM_RETRY_BASE_MS,
      upstreamRetryMaxDelayMs: v.UPSTREAM_RETRY_MAX_DELAY_MS,
      breakerThreshold: v.CIRCUIT_BREAKER_THRESHOLD,
      breakerCooldownMs: v.CIRCUIT_BREAKER_COOLDOWN_MS,
      rateLimitRequests: v.RATE_LIMIT_REQUESTS,
      rateLimitPeriodSeconds: v.RATE_LIMIT_PERIOD_SECONDS,
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
      allowInsecureWebhookUrls: v.ALLOW_INSECURE_WEBHOOK_URLS,
      webhookEncryptionKey: v.WEBHOOK_ENCRYPTION_KEY,
    }),
  );

/** A var that did not parse: what is wrong, and what is used instead. Never a secret's value. */
interface ConfigIssue {
  var: string;
  problem: string;
  used: unknown;
}

/** The least bytes of each secret in `CURSOR_SECRET` (HMAC-SHA256 keys shorter than this are guessable). */
const CURSOR_SECRET_MIN_BYTES = 32;

/**
 * `CURSOR_SECRET` as comma-separated `kid:secret` pairs (a pair without `kid:` gets `k<position>`), in order. The
 * first signs new cursors; the rest still verify, so a secret can be rotated without breaking live cursors.
 */
export function cursorSecretEntries(secret: string | undefined): { id: string; secret: string }[] {
  return commaList(secret).map((entry, i) => {
    const sep = entry.indexOf(":");
    return sep > 0 ? { id: entry.slice(0, sep), secret: entry.slice(sep + 1) } : { id: `k${i}`, secret: entry };
  });
}

/** Why a keyring var cannot be used (a secret part under 32 bytes), naming the key id, never the secret; or null. */
function keyringProblem(name: string, secret: string | undefined): string | null {
  const short = cursorSecretEntries(secret).find(
    (e) => new TextEncoder().encode(e.secret).length < CURSOR_SECRET_MIN_BYTES,
  );
  if (!short) return null;
  return `the secret of key ${short.id} is shorter than ${CURSOR_SECRET_MIN_BYTES} bytes: each \`kid:secret\` pair of ${name} needs a secret (the part after \`kid:\`) of at least ${CURSOR_SECRET_MIN_BYTES} bytes`;
}

/** Why `CURSOR_SECRET` cannot sign cursors (a secret part under 32 bytes), naming the key id, never the secret; or null. */
export const cursorSecretProblem = (secret: string | undefined) => keyringProblem("CURSOR_SECRET", secret);

/**
 * Why `CONNECTION_ENCRYPTION_KEYS` cannot seal tenants' credentials, or null: unset, or a secret under 32 bytes. Its
 * form is CURSOR_SECRET's (`kid:secret` pairs, the first one seals); every key listed still opens what it sealed.
 */
export function connectionKeysProblem(keys: string | undefined): string | null {
  if (cursorSecretEntries(keys).length === 0)
    return "CONNECTION_ENCRYPTION_KEYS is unset: set it to `k1:<secret of 32+ bytes>` (see docs/connections.md)";
  return keyringProblem("CONNECTION_ENCRYPTION_KEYS", keys);
}

/**
 * The vars of `env` that are set but do not parse, each with its rule and the value used instead (a secret's value is
 * never shown); `CURSOR_SECRET` with a short secret too. The logger reports them once per isolate.
 */
export function configIssues(env: Env): ConfigIssue[] {
  const raw = env as unknown as Record<string, unknown>;
  const issues: ConfigIssue[] = [];
  for (const [name, s] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const value = raw[name];
    if (value === undefined || value === "" || (s.schema as z.ZodType<unknown>).safeParse(value).success) continue;
    issues.push({
      var: name,
      problem: s.secret ? `not ${s.rule}` : `${JSON.stringify(String(value).slice(0, 64))} is not ${s.rule}`,
      used: s.fallback ?? "none",
    });
  }
  const cursor = cursorSecretProblem(raw.CURSOR_SECRET as string | undefined);
  if (cursor) issues.push({ var: "CURSOR_SECRET", problem: cursor, used: "none: list routes answer 503" });
  const connectionKeys = raw.CONNECTION_ENCRYPTION_KEYS as string | undefined;
  const sealing = connectionKeys === undefined || connectionKeys === "" ? null : connectionKeysProblem(connectionKeys);
  if (sealing)
    issues.push({ var: "CONNECTION_ENCRYPTION_KEYS", problem: sealing, used: "none: connection routes answer 503" });
  return issues;
}

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
