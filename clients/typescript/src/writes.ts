import { backoff, parseRetryAfter, type RetryOptions, sleep } from "./retry.js";

/** How a POST is retried (its `signal` is the request's own). */
export type PostRetryOptions = Omit<RetryOptions, "signal">;

const HEADER = "Idempotency-Key";

/** Answers worth retrying with the same key: the operation either did not run, or its retry gets its answer. */
const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);

/** A 409 is retried only when it says the first request with the key is still running. */
async function stillRunning(response: Response): Promise<boolean> {
  try {
    const problem = (await response.clone().json()) as { type?: unknown };
    return typeof problem.type === "string" && problem.type.endsWith("/idempotency-key-in-use");
  } catch {
    return false;
  }
}

const retryable = async (response: Response) =>
  RETRIED_STATUSES.has(response.status) || (response.status === 409 && (await stillRunning(response)));

/**
 * Wraps a fetch so that every POST is safe to retry, and is retried. Each POST gets an `Idempotency-Key`: a fresh UUID
 * per call, unless the call set one (`params: { header: { "idempotency-key": … } }`). After a network error, a 429, a
 * 5xx or a 409 `idempotency-key-in-use`, the same request, key included, is sent again, as `Retry-After` asks or
 * after a jittered back-off, up to `maxRetries` times: tributary runs the operation once and answers a repeat with
 * the first answer (`Idempotent-Replayed: true`). Any other method passes through as it is.
 *
 * @example createClient<paths>({ baseUrl, fetch: idempotentPosts((r) => fetch(r), { maxRetries: 3 }) })
 */
export function idempotentPosts(
  fetch: (request: Request) => Promise<Response>,
  options: PostRetryOptions = {},
): (request: Request) => Promise<Response> {
  const { maxRetries = 4, maxDelayMs = 30_000 } = options;
  return async (request) => {
    if (request.method !== "POST") return fetch(request);
    const keyed = request.headers.has(HEADER) ? request : withHeader(request, HEADER, crypto.randomUUID());
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined;
      let failure: unknown;
      try {
        response = await fetch(keyed.clone());
      } catch (err) {
        if (keyed.signal.aborted) throw err;
        failure = err;
      }
      const again = response === undefined || (await retryable(response));
      const asked = response ? parseRetryAfter(response.headers.get("Retry-After")) : null;
      const delayMs = asked ?? backoff(attempt, maxDelayMs);
      if (!again || attempt > maxRetries || delayMs > maxDelayMs) {
        if (response) return response;
        throw failure;
      }
      options.onRetry?.({ status: response?.status ?? 0, attempt, delayMs });
      await sleep(delayMs, keyed.signal);
    }
  };
}

function withHeader(request: Request, name: string, value: string): Request {
  const headers = new Headers(request.headers);
  headers.set(name, value);
  return new Request(request, { headers });
}
