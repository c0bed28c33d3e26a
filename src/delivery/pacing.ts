/**
 * The consumer's side of pacing: ask the endpoint's pacer (pacer.ts) for a slot before a POST, give it back after,
 * and send away a delivery refused one (held: the same attempt again later, never dropped).
 */
import type { DeliveryMessage } from "../events/outbox";
import { isoMicros } from "../shared/time";
import { holdDelivery } from "./delivery-store";
import type { EndpointRow } from "./endpoint-store";
import type { SlotAnswer } from "./pacer";
import { queueDelay, retryAfterDelay } from "./schedule";

/**
 * How long a delivery may wait for its slot inside the pacer before it is held instead: short waits (a slot about to
 * free, the next grant of a rate window) cost no trip through the queue, and an invocation is never kept for long.
 */
const WAIT_IN_PLACE_MS = 2_000;

/** How long a slot outlives the delivery timeout: a slot whose consumer died is reclaimed after it. */
const LEASE_MARGIN_MS = 5_000;

const pacerOf = (env: Env, endpointId: string) => env.ENDPOINT_PACER.get(env.ENDPOINT_PACER.idFromName(endpointId));

/** A slot to POST to `endpoint`, or how long to wait for one and why. */
export function acquireSlot(env: Env, endpoint: EndpointRow, timeoutMs: number): Promise<SlotAnswer> {
  const limits = {
    rateLimit: endpoint.rate_limit,
    maxInFlight: endpoint.max_in_flight,
    leaseMs: timeoutMs + LEASE_MARGIN_MS,
  };
  return pacerOf(env, endpoint.id).acquire(limits, WAIT_IN_PLACE_MS);
}

/**
 * Gives a slot back once the endpoint answered. A 429 or 503 with `Retry-After` pauses the whole endpoint for that
 * long (the delay the answered delivery's own retry uses): its other deliveries are held until then.
 */
export async function releaseSlot(
  env: Env,
  endpointId: string,
  lease: string,
  answer: { status: number | null; retryAfter: string | null },
  now: number,
): Promise<void> {
  const asksToWait = answer.status === 429 || answer.status === 503;
  const seconds = asksToWait ? retryAfterDelay(answer.retryAfter, now) : null;
  await pacerOf(env, endpointId).release(lease, seconds === null ? null : seconds * 1000);
}

/**
 * Holds a delivery refused a slot: the same message (the same attempt: it was never made) is queued again after the
 * pacer's wait, at least a second so a refusal never spins, and the delivery's `next_attempt_at` says when it comes
 * back (so the overdue sweep leaves it alone, and the API shows it).
 */
export async function hold(env: Env, m: DeliveryMessage, waitMs: number, now: number): Promise<void> {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const hop = queueDelay(seconds, now);
  const { due_at: _previousHop, ...base } = m;
  const again: DeliveryMessage = { ...base, ...(hop.dueAt ? { due_at: hop.dueAt } : {}) };
  await holdDelivery(env.DB, m, isoMicros(now + seconds * 1000));
  await env.WEBHOOK_QUEUE.send(again, { delaySeconds: hop.delaySeconds, contentType: "json" });
}
