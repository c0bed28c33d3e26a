/** How a walk waits out `429 Too Many Requests` and `503 Service Unavailable`. */
export interface RetryOptions {
  /** Retries of one request after a 429 or 503 before giving up with its problem. Default 4. */
  maxRetries?: number;
  /** Longest single wait. A `Retry-After` longer than this ends the walk with the problem at once. Default 30 s. */
  maxDelayMs?: number;
  /** Cancels the walk: between requests, during a wait, and the request in flight. */
  signal?: AbortSignal;
  /** Called before each wait, e.g. to log it. */
  onRetry?: (info: { status: number; attempt: number; delayMs: number }) => void;
}

/**
 * Milliseconds a `Retry-After` value asks for: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Null when the
 * header is absent or unreadable; a date in the past is 0.
 * @example parseRetryAfter("3") // 3000
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Full-jitter exponential back-off for an answer without `Retry-After`: up to 1 s, 2 s, 4 s, … */
export const backoff = (attempt: number, maxDelayMs: number) =>
  Math.floor(Math.random() * Math.min(maxDelayMs, 1000 * 2 ** (attempt - 1)));

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
