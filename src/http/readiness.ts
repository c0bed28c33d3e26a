import type { Context, Next } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { loggerOf } from "../logger";
import { appliedMigrations } from "../webhooks/store";
import { ProblemError } from "./problem";

/**
 * Every file in `migrations/`, in order. A deployment that lacks one answers `deployment-incomplete` instead of
 * failing on a missing table or column (test/readiness.test.ts checks this list against the directory).
 */
export const MIGRATIONS = [
  "0001_webhooks.sql",
  "0002_event_sequences.sql",
  "0003_change_detection.sql",
  "0004_event_stream.sql",
  "0005_idempotency_keys.sql",
  "0006_feeds.sql",
] as const;

/** What a route or handler needs besides its code: the webhook store (D1, migrated) and the delivery queues. */
type StorageNeed = "DB" | "WEBHOOK_QUEUE" | "WEBHOOK_DLQ" | "DETECTION_QUEUE";

const APPLY = "Run `wrangler d1 migrations apply DB` (`--local` for `wrangler dev`, `--remote` for the deployment).";

const MISSING_BINDING: Record<StorageNeed, string> = {
  DB: 'The D1 binding `DB` is missing: add a `[[d1_databases]]` entry with `binding = "DB"` to wrangler.toml (see README, Deploying), then apply the migrations.',
  WEBHOOK_QUEUE:
    'The Queue binding `WEBHOOK_QUEUE` is missing: add a `[[queues.producers]]` entry with `binding = "WEBHOOK_QUEUE"` (queue `tributary-webhooks`) to wrangler.toml.',
  WEBHOOK_DLQ:
    'The Queue binding `WEBHOOK_DLQ` is missing: add a `[[queues.producers]]` entry with `binding = "WEBHOOK_DLQ"` (queue `tributary-webhooks-dlq`) to wrangler.toml.',
  DETECTION_QUEUE:
    'The Queue binding `DETECTION_QUEUE` is missing: add a `[[queues.producers]]` entry with `binding = "DETECTION_QUEUE"` and a `[[queues.consumers]]` entry (queue `tributary-detection`, `max_batch_size = 1`) to wrangler.toml.',
};

// Databases seen fully migrated by this isolate: migrations are never rolled back, so they are asked once.
const migrated = new WeakSet<D1Database>();

/** Why the database is not usable yet (migrations missing), or null. */
async function migrationsMissing(db: D1Database): Promise<string | null> {
  if (migrated.has(db)) return null;
  let applied: string[];
  try {
    applied = await appliedMigrations(db);
  } catch (err) {
    // Any other failure (D1 unavailable) is not a missed step: the caller's own storage calls meet it and handle it.
    if (!/no such table/i.test(String(err))) return null;
    return `The D1 database bound as \`DB\` has no migrations applied. ${APPLY}`;
  }
  const missing = MIGRATIONS.filter((name) => !applied.includes(name));
  if (missing.length > 0) {
    return `The D1 database bound as \`DB\` lacks migration${missing.length > 1 ? "s" : ""} ${missing.join(", ")}. ${APPLY}`;
  }
  migrated.add(db);
  return null;
}

/**
 * The first setup step missing for `needs`, as a sentence naming it, or null when everything is in place. A
 * missing binding is read from `env` (no I/O); migrations are checked once per database and isolate.
 */
export async function missingStep(env: Env, needs: readonly StorageNeed[]): Promise<string | null> {
  const bindings = env as Partial<Env>;
  for (const need of needs) {
    if (!bindings[need]) return MISSING_BINDING[need];
  }
  if (needs.includes("DB") && bindings.DB) return migrationsMissing(bindings.DB);
  return null;
}

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

/** Whether the listing cache's KV namespace is bound. */
export const cacheBound = (env: Env) => Boolean((env as Partial<Env>).CACHE);

/**
 * The listing cache fails open: without its KV binding every listing is served from the upstreams (the cache's own
 * read and write failures are caught). Says why on every affected request, naming the binding.
 */
export const warnWithoutCache = createMiddleware<AppEnv>(async (c, next) => {
  if (!cacheBound(c.env)) c.get("log").warn("deployment incomplete", { path: c.req.path, detail: MISSING_CACHE });
  await next();
});

/** Logs a background handler's missing step: one line per invocation, however many messages or sources it had. */
export function logNotReady(
  env: Env,
  handler: "scheduled" | "queue",
  step: string,
  extra: Record<string, unknown> = {},
) {
  loggerOf(env).error("deployment incomplete", { handler, detail: step, ...extra });
}
