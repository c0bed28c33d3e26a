import type { z } from "@hono/zod-openapi";
import type { UpstreamCall } from "../observability/telemetry";
import type { Provider } from "../schemas/sources";
import { ProblemError, type ProblemType } from "../shared/problem";
import { type BudgetAccount, drawToken, pauseAccount } from "./budget";
import { type Admission, breakerFor, type CircuitBreaker } from "./circuit-breaker";
import { backoffDelay, parseRetryAfter, retryAfterSeconds, sleep } from "./retry";
import type { UpstreamScope } from "./scope";
import { timedOut } from "./timeout";

/** The `upstream` member of a problem document. */
export interface UpstreamInfo {
  provider: Provider;
  status: number | null;
  code: string | number | null;
  error_id: string | null;
}

/** A problem caused by an upstream, naming the provider. */
export function upstreamProblem(
  type: ProblemType,
  info: UpstreamInfo,
  detail: string,
  headers?: Record<string, string>,
): ProblemError {
  return new ProblemError(type, { detail, extensions: { upstream: info }, ...(headers ? { headers } : {}) });
}

const MAX_RETRY_AFTER_MS = 3_600_000;

/** An upstream answer, read in full within the attempt's timeout. */
export interface UpstreamResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The attempt as recorded for telemetry, to be completed with what it served. */
  call?: UpstreamCall;
}

type Attempt =
  | ({ kind: "response" } & UpstreamResponse)
  | { kind: "network" }
  | { kind: "timeout"; timeoutMs: number }
  | { kind: "budget" };

/** One GET with a timeout covering the body too. Redirects are not followed: they would carry our credential. */
async function attemptGet(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Attempt> {
  // A timer cleared as soon as the answer is in (not AbortSignal.timeout, which stays armed for its whole span): an
  // isolate may hold at most 10,000 active timeouts, and a busy one makes thousands of upstream calls a minute.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("upstream timeout", "TimeoutError")), timeoutMs);
  const { signal } = controller;
  try {
    const res = await fetch(url, { headers: { Accept: "application/json", ...headers }, signal, redirect: "manual" });
    return { kind: "response", status: res.status, headers: res.headers, text: await res.text() };
  } catch (err) {
    return timedOut(err, signal) ? { kind: "timeout", timeoutMs } : { kind: "network" };
  } finally {
    clearTimeout(timer);
  }
}

/** OpenTelemetry's `error.type` of an attempt: "" for an answer below 400, else its status code or what failed. */
const errorType = (a: Attempt): string =>
  a.kind === "response" ? (a.status >= 400 ? String(a.status) : "") : a.kind === "budget" ? "timeout" : a.kind;

/** Network errors, 5xx and 429 are worth another attempt; anything else is the upstream's considered answer. */
const retryable = (a: Attempt) =>
  a.kind === "network" || (a.kind === "response" && (a.status >= 500 || a.status === 429));

interface UpstreamFetchOptions {
  provider: Provider;
  /** The provider's name as problems show it, e.g. "Inkit". */
  name: string;
  url: string;
  headers: Record<string, string>;
  /** Per attempt; the request's remaining budget shortens it. */
  timeoutMs: number;
  scope: UpstreamScope;
  /**
   * Whether a 429 says the upstream is overloaded for everyone (our configured credential), so it counts
   * toward the circuit breaker, or only that a caller's own credential hit its quota (pass-through).
   */
  rateLimitIsShared: boolean;
  /** The upstream account the credential belongs to: each attempt draws one call from its budget. */
  account?: BudgetAccount;
}

/** A call's options with what its URL says, parsed once: its upstream's breaker and its host. */
type Call = UpstreamFetchOptions & { breaker: CircuitBreaker; host: string };

/**
 * Draws the attempt's call from its account's budget (when the scope has budgets): the time it waited, or throws the
 * budget's refusal. A refused first attempt settles the breaker's admission as a call never made; a refused retry, as
 * the failure of the attempt before it.
 */
async function drawFor(opts: Call, admission: Admission, previous: Attempt | null): Promise<number> {
  const { scope, account } = opts;
  if (!scope.budget || !account) return 0;
  const figures = scope.telemetry.budgetOf(account.provider, account.id);
  const before = figures.waitMs;
  // This call and the others the request expects with the account (a first page's reads): one grant asks for all.
  const expected = scope.expected.get(account.key) ?? 0;
  if (expected > 0) scope.expected.set(account.key, expected - 1);
  try {
    await drawToken(scope.budget, account, scope.deadline, figures, Math.max(1, expected));
  } catch (err) {
    if (previous) settleFailure(opts, admission, previous);
    else opts.breaker.release(admission);
    throw err;
  }
  return figures.waitMs - before;
}

/** An upstream 429 with this account: pause the account for every isolate, for as long as the upstream said. */
async function pauseAfter429(opts: Call, retryAfterMs: number | null): Promise<void> {
  const { scope, account } = opts;
  if (!scope.budget || !account) return;
  scope.telemetry.budgetOf(account.provider, account.id).pauses += 1;
  const wait = Math.min(retryAfterMs ?? scope.policy.retry.maxDelayMs, MAX_RETRY_AFTER_MS);
  await pauseAccount(scope.budget, account, Date.now() + Math.max(1, wait));
}

/** The problem of a request that needs more upstream calls than the deployment allows one request. */
function overSubrequestLimit(limit: number): ProblemError {
  return new ProblemError("subrequest-limit", {
    detail: `This request needs more than ${limit} upstream calls, the most one request may make here (SUBREQUEST_LIMIT: Workers allow 50 subrequests per request on the free plan, 10,000 on the paid plan). Ask for fewer sources or a smaller limit, or raise SUBREQUEST_LIMIT on a paid plan.`,
  });
}

/**
 * GETs an upstream URL resiliently: per-attempt timeout, an overall budget per request, full-jitter
 * exponential back-off retries on network errors, 5xx and 429 (waiting `Retry-After` when it fits the budget),
 * and a per-upstream circuit breaker. A timed-out attempt is not retried: it has spent most of the budget
 * and a slow upstream is not helped by more load.
 *
 * Returns any answer that is not retryable, and a 5xx that stayed one after the last attempt. Throws a
 * problem naming the provider otherwise: 504 `upstream-timeout`, 502 `upstream-error` (unreachable) or
 * 503 `upstream-unavailable` with `Retry-After` (circuit open, or a 429/`Retry-After` beyond the budget).
 */
export async function upstreamFetch(options: UpstreamFetchOptions): Promise<UpstreamResponse> {
  const { provider, name, scope } = options;
  const { policy } = scope;
  const target = new URL(options.url);
  const breaker = breakerFor(`${provider} ${target.origin}`);
  const opts: Call = { ...options, breaker, host: target.host };
  const admission = breaker.admit(policy.breaker, Date.now());
  if (admission.kind === "open") {
    throw upstreamProblem(
      "upstream-unavailable",
      { provider, status: null, code: null, error_id: null },
      `${name} has been failing, so calls to it are paused for a moment (circuit open). Retry after the time given.`,
      { "Retry-After": retryAfterSeconds(admission.retryAfterMs) },
    );
  }
  // The platform would throw past its subrequest limit: refuse first, in words the caller can act on.
  if (scope.attempts >= scope.maxAttempts) throw overSubrequestLimit(scope.maxAttempts);
  const maxAttempts = admission.kind === "probe" ? 1 : policy.retry.maxAttempts;
  let last: Attempt = { kind: "budget" };
  let retryAfterMs: number | null = null;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const remaining = scope.deadline - Date.now();
    if (remaining <= 0) {
      last = { kind: "budget" };
      break;
    }
    if (scope.attempts >= scope.maxAttempts) break;
    // A retry after a 429 draws too: the account is paused by then, so it waits (or is refused) rather than call.
    const budgetWaitMs = await drawFor(opts, admission, attempt > 1 ? last : null);
    scope.attempts += 1;
    const started = performance.now();
    last = await attemptGet(opts.url, opts.headers, Math.min(opts.timeoutMs, Math.max(1, scope.deadline - Date.now())));
    const call = scope.telemetry.record({
      provider,
      address: opts.host,
      status: last.kind === "response" ? last.status : 0,
      errorType: errorType(last),
      durationMs: performance.now() - started,
      attempt,
      account: opts.account?.id ?? "",
      budgetWaitMs,
    });
    if (last.kind === "response") last.call = call;
    if (!retryable(last)) break;
    retryAfterMs = last.kind === "response" ? parseRetryAfter(last.headers.get("Retry-After"), Date.now()) : null;
    if (last.kind === "response" && last.status === 429) await pauseAfter429(opts, retryAfterMs);
    if (attempt === maxAttempts) break;
    const wait = retryAfterMs ?? backoffDelay(attempt, policy.retry);
    if (Date.now() + wait >= scope.deadline) break;
    await sleep(wait);
  }
  return concludeCall(opts, admission, last, retryAfterMs);
}

/** Tells the breaker how the call went and turns the last attempt into an answer or a problem. */
function concludeCall(opts: Call, admission: Admission, last: Attempt, retryAfterMs: number | null): UpstreamResponse {
  const { provider, name, scope, breaker } = opts;
  const info = (status: number | null): UpstreamInfo => ({ provider, status, code: null, error_id: null });

  if (last.kind === "response" && !retryable(last)) {
    breaker.success();
    return last;
  }
  settleFailure(opts, admission, last);

  switch (last.kind) {
    case "timeout":
      return throwing(
        upstreamProblem("upstream-timeout", info(null), `${name} did not answer within ${last.timeoutMs} ms.`),
      );
    case "budget":
      return throwing(
        upstreamProblem(
          "upstream-timeout",
          info(null),
          `${name} could not be asked within this request's time budget.`,
        ),
      );
    case "network":
      return throwing(upstreamProblem("upstream-error", info(null), `${name} could not be reached.`));
    case "response":
      if (last.status === 429 || retryAfterMs !== null) {
        // An upstream's Retry-After is passed on, within reason.
        const wait = Math.min(retryAfterMs ?? scope.policy.retry.maxDelayMs, MAX_RETRY_AFTER_MS);
        throw upstreamProblem(
          "upstream-unavailable",
          info(last.status),
          last.status === 429
            ? `${name} is rate limiting our calls. Retry after the time given.`
            : `${name} is unavailable (HTTP ${last.status}) and asked to be called again later. Retry after the time given.`,
          { "Retry-After": retryAfterSeconds(wait) },
        );
      }
      return last;
  }
}

/**
 * Tells the breaker of a call that failed: a 429 to a caller's own account or a connection's says nothing of the
 * upstream's health, so it only releases the admission.
 */
function settleFailure(opts: Call, admission: Admission, last: Attempt): void {
  const { breaker } = opts;
  const sharedFailure = !(last.kind === "response" && last.status === 429) || opts.rateLimitIsShared;
  if (sharedFailure) breaker.failure(opts.scope.policy.breaker, Date.now(), admission);
  else breaker.release(admission);
}

const throwing = (error: ProblemError): never => {
  throw error;
};

/** Parses and validates an upstream JSON body; anything malformed is a 502 `upstream-invalid-response`. */
export function parseUpstreamJson<S extends z.ZodType>(
  provider: Provider,
  name: string,
  res: UpstreamResponse,
  schema: S,
): z.infer<S> {
  const info: UpstreamInfo = { provider, status: res.status, code: null, error_id: null };
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    throw upstreamProblem("upstream-invalid-response", info, `${name} answered with a body that is not JSON.`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join(".") || "(root)";
    throw upstreamProblem(
      "upstream-invalid-response",
      info,
      `${name} answered with a body that does not match its documented shape (at ${where}).`,
    );
  }
  return parsed.data;
}
