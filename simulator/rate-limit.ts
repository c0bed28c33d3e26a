import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import type { VendorErrorResponse } from "./faults";
import type { SimulatorEnv } from "./shared/env";

/** What `POST /__admin/rate-limit` accepts: a limit on one exact credential string (a `~tag` makes another). */
export const rateLimitSpecSchema = z.strictObject({
  credential: z.string().min(1),
  /** Calls allowed within any `per_seconds` window (sliding): the call past it is refused. */
  calls: z.number().int().min(1).max(1_000_000),
  per_seconds: z.number().min(0.1).max(3_600),
  /** How the 429's `Retry-After` is written: delta-seconds (default) or an HTTP date. */
  retry_after: z.enum(["seconds", "http-date"]).default("seconds"),
});

type RateLimitSpec = z.infer<typeof rateLimitSpecSchema>;

interface Limit extends RateLimitSpec {
  /** When the calls let through in the last window were made, oldest first. */
  calls_at: number[];
  /** Calls this limit refused with 429. */
  refused: number;
}

/**
 * Per-credential rate limits. Neither vendor publishes a limit (Inkit documents only that 429 means "rate limit
 * exceeded"), so the simulator does the least convenient thing a real gateway could: a sliding window that refuses
 * the call past the limit with 429 and a `Retry-After` saying when the oldest call leaves the window. Refused calls
 * are not counted against the window (a client that waits as told gets through).
 */
export class RateLimits {
  #limits = new Map<string, Limit>();

  set(spec: RateLimitSpec): void {
    this.#limits.set(spec.credential, { ...spec, calls_at: [], refused: 0 });
  }

  clear(): void {
    this.#limits.clear();
  }

  /** Each limit with the 429s it sent. */
  list(): { credential: string; calls: number; per_seconds: number; retry_after: string; refused: number }[] {
    return [...this.#limits.values()].map(({ calls_at: _, ...limit }) => limit);
  }

  /** 429s sent since the last reset, by every limit. */
  refusedTotal(): number {
    return [...this.#limits.values()].reduce((n, l) => n + l.refused, 0);
  }

  /** Counts a call with `credential` at `now`: null when it may go, else the `Retry-After` value to answer with. */
  take(credential: string, now: number): string | null {
    const limit = this.#limits.get(credential);
    if (!limit) return null;
    const windowMs = limit.per_seconds * 1000;
    while (limit.calls_at.length > 0 && (limit.calls_at[0] as number) <= now - windowMs) limit.calls_at.shift();
    if (limit.calls_at.length < limit.calls) {
      limit.calls_at.push(now);
      return null;
    }
    limit.refused += 1;
    const freeAt = (limit.calls_at[0] as number) + windowMs;
    // An HTTP date has whole seconds: rounded up, so a client that waits until then is let through.
    return limit.retry_after === "http-date"
      ? new Date(Math.ceil(freeAt / 1000) * 1000).toUTCString()
      : String(Math.max(1, Math.ceil((freeAt - now) / 1000)));
  }
}

/** Refuses a call past its credential's limit with the vendor's 429 and `Retry-After`. */
export function enforceRateLimits(
  limits: RateLimits,
  credentialOf: (c: Parameters<MiddlewareHandler<SimulatorEnv>>[0]) => string,
  vendorError: VendorErrorResponse,
): MiddlewareHandler<SimulatorEnv> {
  return async (c, next) => {
    const retryAfter = limits.take(credentialOf(c), Date.now());
    if (retryAfter === null) return next();
    const response = vendorError(429);
    response.headers.set("Retry-After", retryAfter);
    return response;
  };
}
