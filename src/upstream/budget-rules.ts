/**
 * The pure rules of an upstream account's request budget: a token bucket shared by every isolate (kept by the
 * `UpstreamBudget` Durable Object), with a reserve that only listings may draw, and a pause an upstream 429 sets.
 */

/** Who draws: a listing (a request waiting on the answer) may take the whole bucket; detection only above the reserve. */
export type BudgetPriority = "listing" | "detection";

/** The bucket's shape, sent with every grant so a deployment's vars (or a test's) apply at once. */
export interface BucketPolicy {
  /** Tokens added per second: the account's steady call rate. */
  ratePerSecond: number;
  /** The most tokens the bucket holds: the largest burst. */
  capacity: number;
  /** Tokens detection leaves for listings. */
  reserve: number;
}

/** The bucket as the Durable Object keeps it. */
export interface BucketState {
  tokens: number;
  /** Unix ms of the last refill. */
  updatedAt: number;
  /** Unix ms until which the upstream asked us to stop (a 429's `Retry-After`); 0 when not paused. */
  pausedUntil: number;
}

/** What a grant decided: tokens given (0 when refused), and when to ask again if refused. */
interface GrantDecision {
  state: BucketState;
  granted: number;
  /** 0 when granted; else ms until the ask could be met, at least in part. */
  retryAfterMs: number;
  paused: boolean;
}

/**
 * The policy of a rate of `callsPerMinute`: a bucket of `burstSeconds` of calls (at least one batch, so a grant can be
 * whole), a third of which detection leaves to listings.
 * @example bucketPolicy(300, 10, 10) // { ratePerSecond: 5, capacity: 50, reserve: 16 }
 */
export function bucketPolicy(callsPerMinute: number, burstSeconds: number, batch: number): BucketPolicy {
  const ratePerSecond = callsPerMinute / 60;
  const capacity = Math.max(1, batch, Math.floor(ratePerSecond * burstSeconds));
  return { ratePerSecond, capacity, reserve: Math.floor(capacity / 3) };
}

/** A full bucket, as an account starts. */
export const freshBucket = (policy: BucketPolicy, now: number): BucketState => ({
  tokens: policy.capacity,
  updatedAt: now,
  pausedUntil: 0,
});

/** The bucket at `now`: refilled at the policy's rate, never above capacity (a smaller capacity cuts it down). */
function refill(state: BucketState, policy: BucketPolicy, now: number): BucketState {
  const elapsed = Math.max(0, now - state.updatedAt) / 1000;
  const tokens = Math.min(policy.capacity, state.tokens + elapsed * policy.ratePerSecond);
  return { ...state, tokens, updatedAt: Math.max(now, state.updatedAt) };
}

/** Ms until the bucket holds `level` tokens at the policy's rate. */
function msUntil(state: BucketState, policy: BucketPolicy, level: number): number {
  if (state.tokens >= level) return 0;
  if (policy.ratePerSecond <= 0) return Number.POSITIVE_INFINITY;
  return Math.ceil(((level - state.tokens) / policy.ratePerSecond) * 1000);
}

/**
 * Grants up to `want` whole tokens to `priority` at `now`. A paused account grants nothing until its pause ends.
 * Listings draw down to 0; detection down to the reserve. A refusal says when one token will be there for it.
 */
export function grant(
  before: BucketState,
  policy: BucketPolicy,
  ask: { want: number; priority: BudgetPriority; now: number },
): GrantDecision {
  const state = refill(before, policy, ask.now);
  if (state.pausedUntil > ask.now) {
    return { state, granted: 0, retryAfterMs: state.pausedUntil - ask.now, paused: true };
  }
  const floor = ask.priority === "listing" ? 0 : Math.min(policy.reserve, policy.capacity - 1);
  const available = Math.floor(state.tokens - floor);
  const granted = Math.max(0, Math.min(Math.floor(ask.want), available));
  if (granted === 0)
    return { state, granted, retryAfterMs: Math.max(1, msUntil(state, policy, floor + 1)), paused: false };
  return { state: { ...state, tokens: state.tokens - granted }, granted, retryAfterMs: 0, paused: false };
}

/**
 * Pauses the account until `until` (a later pause wins), and empties the bucket: what is granted after the pause is
 * what refills from then, not a burst saved up through it.
 */
export function pause(before: BucketState, policy: BucketPolicy, until: number, now: number): BucketState {
  const state = refill(before, policy, now);
  if (until <= Math.max(now, state.pausedUntil)) return state;
  return { tokens: 0, updatedAt: until, pausedUntil: until };
}
