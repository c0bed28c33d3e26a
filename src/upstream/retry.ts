/** How an upstream GET is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Base of the exponential back-off. */
  baseMs: number;
  /** Cap of one back-off wait. */
  maxDelayMs: number;
}

/**
 * Full-jitter exponential back-off (AWS Architecture Blog, "Exponential Backoff and Jitter"): a uniformly
 * random wait in [0, min(cap, base · 2^(attempt-1))], so that clients failing together do not retry together.
 * @example backoffDelay(2, { maxAttempts: 3, baseMs: 200, maxDelayMs: 2000 }) // somewhere in 0..400
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * (ceiling + 1));
}

/**
 * Parses a `Retry-After` value, delta-seconds or HTTP-date (RFC 9110 §10.2.3), into milliseconds from `now`.
 * Returns null when absent or unparseable; a date in the past is 0.
 * @example parseRetryAfter("3", Date.now()) // 3000
 */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Whole seconds for a `Retry-After` header: never 0, so a client always waits a little. */
export const retryAfterSeconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
