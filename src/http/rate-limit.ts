import { createMiddleware } from "hono/factory";
import { ProblemError } from "../shared/problem";
import type { AppEnv } from "./app-env";

/** Seconds until the current fixed window of `period` seconds ends (at least 1). */
export function windowResetSeconds(periodSeconds: number, now: number): number {
  return Math.max(1, periodSeconds - (Math.floor(now / 1000) % periodSeconds));
}

/**
 * Limits each API key to `RATE_LIMIT_REQUESTS` per `RATE_LIMIT_PERIOD_SECONDS`, with the Workers Rate Limiting
 * binding `RATE_LIMITER` (keyed by the caller's key id, never the key). Every response to an authenticated
 * request carries `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers); a refused one is a 429
 * `rate-limited` problem with `Retry-After` and `RateLimit` (`r=0`, `t` = seconds to the window's end).
 *
 * The binding only answers allowed or not, so `RateLimit` (remaining quota) is sent on 429s only. It counts per
 * Cloudflare location and is eventually consistent: a permissive guard against abuse, not exact accounting.
 * Without the binding, or when it fails, requests are let through (fail open) and the failure is logged.
 */
export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const limiter = (c.env as Partial<Env>).RATE_LIMITER;
  const caller = c.get("caller");
  if (!limiter || !caller) return next();
  const { rateLimitRequests: q, rateLimitPeriodSeconds: w } = c.get("config");
  const policy = `"default";q=${q};w=${w}`;
  c.header("RateLimit-Policy", policy);
  let allowed = true;
  try {
    allowed = (await limiter.limit({ key: caller.tenant })).success;
  } catch (err) {
    c.get("log").warn("rate limiter failed; request let through", { error: String(err) });
  }
  if (!allowed) {
    const reset = windowResetSeconds(w, Date.now());
    throw new ProblemError("rate-limited", {
      detail: `This API key has made more than ${q} requests in ${w} s. Retry after ${reset} s.`,
      headers: { "Retry-After": String(reset), RateLimit: `"default";r=0;t=${reset}`, "RateLimit-Policy": policy },
    });
  }
  await next();
});
