import { type DeliveryMessage, enqueue } from "../events/outbox";
import { isoMicros } from "../shared/time";
import { markDue, overdueDeliveries } from "./delivery-store";

/** How late a pending delivery must be before the sweeper queues it again. */
const OVERDUE_MS = 10 * 60 * 1000;

/**
 * Queues again the pending deliveries whose next attempt is long overdue: their message was lost (e.g. the queue
 * send failed after the database write). A duplicate message is harmless: the first one to run advances the
 * delivery and the other no longer matches it.
 */
export async function resendOverdue(env: Env, limit = 100): Promise<number> {
  const now = Date.now();
  const overdue = await overdueDeliveries(env.DB, isoMicros(now - OVERDUE_MS), limit);
  if (overdue.length === 0) return 0;
  await markDue(env.DB, overdue, isoMicros(now));
  const messages: DeliveryMessage[] = overdue.map((d) => ({
    event_id: d.event_id,
    endpoint_id: d.endpoint_id,
    attempt: d.next_attempt,
    generation: d.generation,
  }));
  await enqueue(env.WEBHOOK_QUEUE, messages);
  return overdue.length;
}
