import { configOf } from "../config";
import { isoMicros } from "./ids";
import { type DeliveryRow, enqueue } from "./log";
import type { DeliveryMessage } from "./schedule";

/** How late a pending delivery must be before the sweeper queues it again. */
export const OVERDUE_MS = 10 * 60 * 1000;

/**
 * Queues again the pending deliveries whose next attempt is long overdue: their message was lost (e.g. the queue
 * send failed after the database write). A duplicate message is harmless: the first one to run advances the
 * delivery and the other no longer matches it.
 */
export async function resendOverdue(env: Env, limit = 100): Promise<number> {
  const db = env.DB;
  const now = Date.now();
  const { results } = await db
    .prepare(
      "SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at < ? ORDER BY next_attempt_at LIMIT ?",
    )
    .bind(isoMicros(now - OVERDUE_MS), limit)
    .all<DeliveryRow>();
  if (results.length === 0) return 0;
  await db.batch(
    results.map((d) =>
      db
        .prepare("UPDATE deliveries SET next_attempt_at = ? WHERE event_id = ? AND endpoint_id = ?")
        .bind(isoMicros(now), d.event_id, d.endpoint_id),
    ),
  );
  const messages: DeliveryMessage[] = results.map((d) => ({
    event_id: d.event_id,
    endpoint_id: d.endpoint_id,
    attempt: d.next_attempt,
    generation: d.generation,
  }));
  await enqueue(env.WEBHOOK_QUEUE, messages);
  return results.length;
}

/** Deletes up to `limit` expired events per tick, with their deliveries and attempts (replay cannot reach them). */
export async function pruneExpired(env: Env, limit = 1000): Promise<void> {
  const db = env.DB;
  const cutoff = isoMicros(Date.now() - configOf(env).webhookRetentionDays * 86_400_000);
  const expired = "SELECT id FROM events WHERE created_at < ? ORDER BY created_at LIMIT ?";
  await db.batch([
    db.prepare(`DELETE FROM delivery_attempts WHERE event_id IN (${expired})`).bind(cutoff, limit),
    db.prepare(`DELETE FROM deliveries WHERE event_id IN (${expired})`).bind(cutoff, limit),
    db.prepare(`DELETE FROM events WHERE id IN (${expired})`).bind(cutoff, limit),
  ]);
}
