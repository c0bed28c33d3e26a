import { DurableObject } from "cloudflare:workers";
import { type BucketPolicy, type BudgetPriority, freshBucket, grant, pause } from "./budget-rules";

/** A grant as the object answers it. */
export interface BudgetGrant {
  granted: number;
  /** 0 when granted; else ms until asking again can succeed. */
  retryAfterMs: number;
  /** Refused because an upstream 429 paused the account. */
  paused: boolean;
}

/** What the object has answered since it started: the round trips isolates paid, for operators and tests. */
export interface BudgetStats {
  grants: number;
  granted: number;
  refused: number;
  pauses: number;
}

const STATE = "bucket";

/**
 * One upstream account's request budget (one instance per account, `idFromName`): the thin I/O edge around
 * budget-rules.ts. A Durable Object runs one call at a time, so grants never race; the bucket is kept in its SQLite
 * storage (written synchronously, read once per start), so an evicted object resumes its bucket and its pause instead of
 * starting full.
 */
export class UpstreamBudget extends DurableObject<Env> {
  private stats: BudgetStats = { grants: 0, granted: 0, refused: 0, pauses: 0 };

  /** Grants up to `want` tokens to `priority`, or says how long to wait. */
  grant(ask: { want: number; priority: BudgetPriority; policy: BucketPolicy }): BudgetGrant {
    const now = Date.now();
    const decision = grant(this.bucket(ask.policy, now), ask.policy, { ...ask, now });
    this.ctx.storage.kv.put(STATE, decision.state);
    this.stats.grants += 1;
    this.stats.granted += decision.granted;
    if (decision.granted === 0) this.stats.refused += 1;
    return { granted: decision.granted, retryAfterMs: decision.retryAfterMs, paused: decision.paused };
  }

  /** The upstream answered 429: nobody calls it with this account until `until` (Unix ms). */
  pause(request: { until: number; policy: BucketPolicy }): void {
    const now = Date.now();
    this.ctx.storage.kv.put(STATE, pause(this.bucket(request.policy, now), request.policy, request.until, now));
    this.stats.pauses += 1;
  }

  /** Round trips answered since the object started. */
  counts(): BudgetStats {
    return { ...this.stats };
  }

  private bucket(policy: BucketPolicy, now: number) {
    return this.ctx.storage.kv.get<ReturnType<typeof freshBucket>>(STATE) ?? freshBucket(policy, now);
  }
}
