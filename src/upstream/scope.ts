import { AsyncLocalStorage } from "node:async_hooks";
import { createMiddleware } from "hono/factory";
import { type Config, configOf } from "../config";
import { Telemetry } from "../observability/telemetry";
import type { Provider } from "../schemas/sources";
import { type BudgetAccess, budgetAccess, budgetAccount } from "./budget";
import type { BudgetPriority } from "./budget-rules";
import type { BreakerPolicy } from "./circuit-breaker";
import type { RetryPolicy } from "./retry";

/** How upstream GETs behave: timeouts, retries and the circuit breaker. */
export interface UpstreamPolicy {
  /** Per attempt. */
  timeoutMs: number;
  retry: RetryPolicy;
  breaker: BreakerPolicy;
}

/** What the upstream client needs to know about the request (or cron run) it serves. */
export interface UpstreamScope {
  policy: UpstreamPolicy;
  /** Unix ms by which every upstream call of the request must be over: the budget. */
  deadline: number;
  /** Upstream attempts made so far, retries included (for the request's log line). */
  attempts: number;
  /** Attempts the request may make in all: the platform's subrequest limit per invocation (`SUBREQUEST_LIMIT`). */
  maxAttempts: number;
  /** Every upstream attempt the request made, for `Server-Timing`, its log line and Analytics Engine. */
  telemetry: Telemetry;
  /** The upstream accounts' budgets every attempt draws from; null outside a deployment's scope (no env at hand). */
  budget: BudgetAccess | null;
  /**
   * Calls the request still expects to make, by budget account (`BudgetAccount.key`): a grant asks for all of them at
   * once (see `expectCall`).
   */
  expected: Map<string, number>;
}

function upstreamPolicy(config: Config): UpstreamPolicy {
  return {
    timeoutMs: config.upstreamTimeoutMs,
    retry: {
      maxAttempts: config.upstreamMaxAttempts,
      baseMs: config.upstreamRetryBaseMs,
      maxDelayMs: config.upstreamRetryMaxDelayMs,
    },
    breaker: { threshold: config.breakerThreshold, cooldownMs: config.breakerCooldownMs },
  };
}

/** A scope whose budget starts now; with `budget`, its attempts draw from their upstream accounts' budgets. */
export function newUpstreamScope(config: Config, now = Date.now(), budget: BudgetAccess | null = null): UpstreamScope {
  return {
    policy: upstreamPolicy(config),
    deadline: now + config.upstreamBudgetMs,
    attempts: 0,
    maxAttempts: config.subrequestLimit,
    telemetry: new Telemetry(),
    budget,
    expected: new Map(),
  };
}

const storage = new AsyncLocalStorage<UpstreamScope>();

/** The scope of the request being served, if any. */
export const currentUpstreamScope = (): UpstreamScope | undefined => storage.getStore();

/** What names a credential's account (see `budgetAccount`); typed here so the scope needs nothing of the client. */
type AccountCredential = Parameters<typeof budgetAccount>[1];

/**
 * Tells the request's scope that it is about to call `provider` with `credential` once more (a first page reads every
 * source once): the first grant the request waits for then asks the account's object for every call it expects, not
 * one batch, so a page of many sources on one account makes one round trip to the object instead of one per batch.
 * Expectations are spent by the calls made; a request whose reads are answered from the cache asks for nothing.
 * @example await expectCall("8x8", credential) // once per source a first page will read
 */
export async function expectCall(provider: Provider, credential: AccountCredential): Promise<void> {
  const scope = storage.getStore();
  if (!scope?.budget) return;
  const { key } = await budgetAccount(provider, credential);
  scope.expected.set(key, (scope.expected.get(key) ?? 0) + 1);
}

/**
 * Runs `fn` with its own upstream budget, e.g. one check of one source; `fn` gets the scope (its telemetry). Its calls
 * draw from their accounts' budgets as `priority`.
 * @example await withUpstreamScope(env, { priority: "detection" }, () => checkSource(env, deps, source))
 */
export function withUpstreamScope<T>(
  env: Env,
  options: { priority: BudgetPriority; waitUntil?: (p: Promise<unknown>) => void },
  fn: (scope: UpstreamScope) => T,
): T {
  const config = configOf(env);
  const scope = newUpstreamScope(config, Date.now(), budgetAccess(env, config, options.priority, options.waitUntil));
  return storage.run(scope, () => fn(scope));
}

/**
 * Gives the request one upstream budget (`UPSTREAM_BUDGET_MS`) shared by every upstream call it makes, the
 * deployment's retry and breaker policy, and its calls' draws from their accounts' budgets (as listings: first). Carried by AsyncLocalStorage, so sources need not pass it down.
 */
export const upstreamScope = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const config = configOf(c.env);
  let waitUntil: ((p: Promise<unknown>) => void) | undefined;
  try {
    const ctx = c.executionCtx;
    waitUntil = (p) => ctx.waitUntil(p);
  } catch {
    // No execution context (a request built by hand): a background top-up is then simply not awaited.
  }
  const budget = budgetAccess(c.env, config, "listing", waitUntil);
  await storage.run(newUpstreamScope(config, Date.now(), budget), next);
});
