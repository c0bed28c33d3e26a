/**
 * What a deployment needs besides code: its bindings and its D1 migrations. A missing step is named in one sentence,
 * so a route answers a 503 that says what to do, and the cron and queue handlers log it and wait.
 */
import { loggerOf } from "../shared/logger";

/**
 * Every file in `migrations/`, in order. A deployment that lacks one answers `deployment-incomplete` instead of
 * failing on a missing table or column (test/integration/readiness.test.ts checks this list against the directory).
 */
export const MIGRATIONS = [
  "0001_webhooks.sql",
  "0002_event_sequences.sql",
  "0003_change_detection.sql",
  "0004_event_stream.sql",
  "0005_idempotency_keys.sql",
  "0006_feeds.sql",
  "0007_connections.sql",
  "0008_endpoint_pacing.sql",
  "0009_detection_deferrals.sql",
  "0010_watched_items_by_start.sql",
] as const;

/**
 * What a route or handler needs besides its code: the webhook store (D1, migrated), the delivery queues and the
 * endpoints' pacers (a Durable Object namespace).
 */
export type StorageNeed =
  | "DB"
  | "WEBHOOK_QUEUE"
  | "WEBHOOK_DLQ"
  | "DETECTION_QUEUE"
  | "ENDPOINT_PACER"
  | "UPSTREAM_BUDGET";

const APPLY = "Run `wrangler d1 migrations apply DB` (`--local` for `wrangler dev`, `--remote` for the deployment).";

const MISSING_BINDING: Record<StorageNeed, string> = {
  DB: 'The D1 binding `DB` is missing: add a `[[d1_databases]]` entry with `binding = "DB"` to wrangler.toml (see README, Deploying), then apply the migrations.',
  WEBHOOK_QUEUE:
    'The Queue binding `WEBHOOK_QUEUE` is missing: add a `[[queues.producers]]` entry with `binding = "WEBHOOK_QUEUE"` (queue `tributary-webhooks`) to wrangler.toml.',
  WEBHOOK_DLQ:
    'The Queue binding `WEBHOOK_DLQ` is missing: add a `[[queues.producers]]` entry with `binding = "WEBHOOK_DLQ"` (queue `tributary-webhooks-dlq`) to wrangler.toml.',
  DETECTION_QUEUE:
    'The Queue binding `DETECTION_QUEUE` is missing: add a `[[queues.producers]]` entry with `binding = "DETECTION_QUEUE"` and a `[[queues.consumers]]` entry (queue `tributary-detection`, `max_batch_size = 1`) to wrangler.toml.',
  ENDPOINT_PACER:
    'The Durable Object binding `ENDPOINT_PACER` is missing: add a `[[durable_objects.bindings]]` entry with `name = "ENDPOINT_PACER"` and `class_name = "EndpointPacer"`, and its `[[migrations]]` entry (`new_sqlite_classes = ["EndpointPacer"]`), to wrangler.toml.',
  UPSTREAM_BUDGET:
    'The Durable Object binding `UPSTREAM_BUDGET` is missing: add a `[[durable_objects.bindings]]` entry with `name = "UPSTREAM_BUDGET"` and `class_name = "UpstreamBudget"`, and its `[[migrations]]` entry (`new_sqlite_classes = ["UpstreamBudget"]`), to wrangler.toml (see docs/upstream-budget.md).',
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

/** Whether the listing cache's KV namespace is bound. */
export const cacheBound = (env: Env) => Boolean((env as Partial<Env>).CACHE);

/** Logs a background handler's missing step: one line per invocation, however many messages or sources it had. */
export function logNotReady(
  env: Env,
  handler: "scheduled" | "queue",
  step: string,
  extra: Record<string, unknown> = {},
) {
  loggerOf(env).error("deployment incomplete", { handler, detail: step, ...extra });
}

/** The migrations `wrangler d1 migrations apply` recorded; throws "no such table" on a database never migrated. */
async function appliedMigrations(db: D1Database): Promise<string[]> {
  const { results } = await db.prepare("SELECT name FROM d1_migrations").all<{ name: string }>();
  return results.map((r) => r.name);
}
