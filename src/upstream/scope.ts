import { AsyncLocalStorage } from "node:async_hooks";
import { createMiddleware } from "hono/factory";
import { type Config, configOf } from "../config";
import { Telemetry } from "../observability/telemetry";
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

/** A scope whose budget starts now. */
export function newUpstreamScope(config: Config, now = Date.now()): UpstreamScope {
  return {
    policy: upstreamPolicy(config),
    deadline: now + config.upstreamBudgetMs,
    attempts: 0,
    maxAttempts: config.subrequestLimit,
    telemetry: new Telemetry(),
  };
}

const storage = new AsyncLocalStorage<UpstreamScope>();

/** The scope of the request being served, if any. */
export const currentUpstreamScope = (): UpstreamScope | undefined => storage.getStore();

/**
 * Runs `fn` with its own upstream budget, e.g. one cron run's work per source; `fn` gets the scope (its telemetry).
 * @example await withUpstreamScope(env, () => detectChanges(env))
 */
export function withUpstreamScope<T>(env: Env, fn: (scope: UpstreamScope) => T): T {
  const scope = newUpstreamScope(configOf(env));
  return storage.run(scope, () => fn(scope));
}

/**
 * Gives the request one upstream budget (`UPSTREAM_BUDGET_MS`) shared by every upstream call it makes, and
 * the deployment's retry and breaker policy. Carried by AsyncLocalStorage, so sources need not pass it down.
 */
export const upstreamScope = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  await storage.run(newUpstreamScope(configOf(c.env)), next);
});
