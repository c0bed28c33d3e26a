import type { DeliveryMessage } from "../events/outbox";

import { parseRetryAfter } from "../upstream/retry";

/**
 * Delays before each attempt, in seconds: Standard Webhooks' schedule. Attempt 1 is immediate, attempt 2 comes
 * 5 s after the first failure, … attempt 10 comes 24 h after the ninth. After attempt 10 fails, the delivery is
 * exhausted: marked failed and sent to the dead-letter queue (replay can still resend it).
 */
export const RETRY_DELAYS_SECONDS = [0, 5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400] as const;

export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length;

/** Cloudflare Queues accept at most 12 hours of delay per message; longer waits are split into hops. */
export const MAX_QUEUE_DELAY_SECONDS = 43_200;

/** Longest `Retry-After` honoured; a longer one is clamped to it. */
const MAX_RETRY_AFTER_SECONDS = 86_400;

/** The delay before attempt `attempt` (2..MAX_ATTEMPTS), or null when no attempt follows. */
export function scheduledDelay(attempt: number): number | null {
  return attempt >= 2 && attempt <= MAX_ATTEMPTS ? (RETRY_DELAYS_SECONDS[attempt - 1] ?? null) : null;
}

/** An endpoint's `Retry-After` (see `parseRetryAfter`) in seconds, clamped to 1..24 h; null when absent or unreadable. */
export function retryAfterDelay(header: string | null, now: number): number | null {
  const ms = parseRetryAfter(header, now);
  return ms === null ? null : Math.min(Math.max(Math.ceil(ms / 1000), 1), MAX_RETRY_AFTER_SECONDS);
}

/**
 * How to queue a message due `delaySeconds` from `now`: a queue delay of at most 12 h, plus `due_at` when the
 * wait needs more hops (the consumer re-queues such a message with the remaining delay, same attempt number).
 */
export function queueDelay(delaySeconds: number, now: number): { delaySeconds: number; dueAt?: number } {
  if (delaySeconds <= MAX_QUEUE_DELAY_SECONDS) return { delaySeconds };
  return { delaySeconds: MAX_QUEUE_DELAY_SECONDS, dueAt: now + delaySeconds * 1000 };
}

/** The remaining wait of a message that arrived at `now`: null when it is due (within a second's tolerance). */
export function remainingHop(message: DeliveryMessage, now: number): number | null {
  if (message.due_at === undefined) return null;
  const remaining = Math.ceil((message.due_at - now) / 1000);
  return remaining > 1 ? Math.min(remaining, MAX_QUEUE_DELAY_SECONDS) : null;
}
