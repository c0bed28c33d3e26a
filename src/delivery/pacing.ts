/**
 * The consumer's side of pacing: ask the endpoint's pacer (pacer.ts) for slots before the POSTs, give them back after,
 * and send away the deliveries refused one (held: the same attempt again later, never dropped). One consumer's
 * deliveries to one endpoint share each round trip: slots are asked for together and given back together, the
 * release riding on the next ask when some deliveries still wait for a slot.
 */
import type { DeliveryMessage } from "../events/outbox";
import type { EndpointRow } from "./endpoint-store";
import type { GivenBack, PaceAnswer } from "./pacer";
import { queueDelay, retryAfterDelay } from "./schedule";

/**
 * How long deliveries may wait for their first slot inside the pacer before they are held instead: short waits (a slot
 * about to free, the next grant of a rate window) cost no trip through the queue, and an invocation is never kept
 * for long.
 */
export const WAIT_IN_PLACE_MS = 2_000;

/** How long a slot outlives the delivery timeout: a slot whose consumer died is reclaimed after it. */
const LEASE_MARGIN_MS = 5_000;

const pacerOf = (env: Env, endpointId: string) => env.ENDPOINT_PACER.get(env.ENDPOINT_PACER.idFromName(endpointId));

/** A slot given back once its endpoint answered (at `answeredAt`, ms), and what the answer asked for. */
export interface Answered {
  lease: string;
  status: number | null;
  retryAfter: string | null;
  answeredAt: number;
}

/** How long an answer pauses its whole endpoint (a 429 or 503 with a readable `Retry-After`), or null. */
export function pauseMsOf(a: Omit<Answered, "lease">): number | null {
  const asksToWait = a.status === 429 || a.status === 503;
  const seconds = asksToWait ? retryAfterDelay(a.retryAfter, a.answeredAt) : null;
  return seconds === null ? null : seconds * 1000;
}

/**
 * One round trip to `endpoint`'s pacer: gives back `answered`, then asks slots for `want` deliveries that may wait
 * here until `deadline` (ms). A 429 or 503 with `Retry-After` pauses the whole endpoint for that long (the delay the
 * answered delivery's own retry uses): its other deliveries are held until then.
 */
export function pace(
  env: Env,
  endpoint: EndpointRow,
  timeoutMs: number,
  answered: Answered[],
  want: number,
  deadline: number,
): Promise<PaceAnswer> {
  const now = Date.now();
  const release: GivenBack[] = answered.map((a) => ({
    lease: a.lease,
    pauseMs: pauseMsOf(a),
    answeredAgoMs: now - a.answeredAt,
  }));
  const limits = {
    rateLimit: endpoint.rate_limit,
    maxInFlight: endpoint.max_in_flight,
    leaseMs: timeoutMs + LEASE_MARGIN_MS,
  };
  return pacerOf(env, endpoint.id).pace({ limits, release, want, waitUpToMs: Math.max(0, deadline - now) });
}

/**
 * A delivery refused a slot, held: the same message (the same attempt: it was never made) queued again after the
 * pacer's wait, at least a second so a refusal never spins, and when it comes back (`nextAt`, ms): the delivery's
 * `next_attempt_at` says so, so the overdue sweep leaves it alone and the API shows it.
 */
export function held(
  m: DeliveryMessage,
  waitMs: number,
  now: number,
): { message: DeliveryMessage; delaySeconds: number; nextAt: number } {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const hop = queueDelay(seconds, now);
  const { due_at: _previousHop, ...base } = m;
  const message: DeliveryMessage = { ...base, ...(hop.dueAt ? { due_at: hop.dueAt } : {}) };
  return { message, delaySeconds: hop.delaySeconds, nextAt: now + seconds * 1000 };
}
