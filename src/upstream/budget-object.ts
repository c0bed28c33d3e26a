import { DurableObject } from "cloudflare:workers";
import { type BucketPolicy, type BucketState, type BudgetPriority, freshBucket, grant, pause } from "./budget-rules";

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

/** Where a pause is kept: the one part of the bucket that must outlive the object. */
const PAUSED_UNTIL = "pausedUntil";

/**
 * One upstream account's request budget (one instance per account, `idFromName`): the thin I/O edge around
 * budget-rules.ts. A Durable Object runs one call at a time, so grants never race. The bucket lives in memory: a grant
 * costs no storage write, and an object is evicted only after it has been idle for a while, by when its bucket has
 * refilled for most of that time (an evicted object starts full: at worst one burst early). A pause (an upstream's `Retry-After`, which may be
 * long) is kept in its SQLite storage too, so an evicted object still honours it.
 */
export class UpstreamBudget extends DurableObject<Env> {
  private stats: BudgetStats = { grants: 0, granted: 0, refused: 0, pauses: 0 };
  private state: BucketState | null = null;

  /** Grants up to `want` tokens to `priority`, or says how long to wait. */
  grant(ask: { want: number; priority: BudgetPriority; policy: BucketPolicy }): BudgetGrant {
    const now = Date.now();
    const decision = grant(this.bucket(ask.policy, now), ask.policy, { ...ask, now });
    this.state = decision.state;
    this.stats.grants += 1;
    this.stats.granted += decision.granted;
    if (decision.granted === 0) this.stats.refused += 1;
    return { granted: decision.granted, retryAfterMs: decision.retryAfterMs, paused: decision.paused };
  }

  /** The upstream answered 429: nobody calls it with this account until `until` (Unix ms). */
  pause(request: { until: number; policy: BucketPolicy }): void {
    const now = Date.now();
    this.state = pause(this.bucket(request.policy, now), request.policy, request.until, now);
    this.ctx.storage.kv.put(PAUSED_UNTIL, this.state.pausedUntil);
    this.stats.pauses += 1;
  }

  /** Round trips answered since the object started. */
  counts(): BudgetStats {
    return { ...this.stats };
  }

  /** The bucket, or (after a start) a full one that honours a pause still running. */
  private bucket(policy: BucketPolicy, now: number): BucketState {
    if (this.state) return this.state;
    const pausedUntil = this.ctx.storage.kv.get<number>(PAUSED_UNTIL) ?? 0;
    return pausedUntil > now ? { tokens: 0, updatedAt: pausedUntil, pausedUntil } : freshBucket(policy, now);
  }

  /** Forgets the bucket, any pause and the counts: a new deployment's budget, for tests. */
  reset(): void {
    this.state = null;
    this.stats = { grants: 0, granted: 0, refused: 0, pauses: 0 };
    this.ctx.storage.kv.delete(PAUSED_UNTIL);
  }
}
