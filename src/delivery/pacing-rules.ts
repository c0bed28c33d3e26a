/**
 * The pacing rules of one webhook endpoint, without I/O: whether a delivery may be POSTed now (a slot) or must wait,
 * and how long. The endpoint's Durable Object (pacer.ts) keeps the state and applies these rules.
 */

/**
 * The window `rate_limit` counts grants in. A consumer counts arrivals in its own one-second windows, and a grant
 * reaches it some milliseconds later (the pacer's answer, signing, the network), by an amount that varies: counting
 * grants in 1.25 s keeps `rate_limit` arrivals per consumer second even when two grants' travel times differ by up to
 * 250 ms. The cost: a sustained rate of `rate_limit / 1.25` per second, 80% of the limit.
 */
export const RATE_WINDOW_MS = 1_250;

/** The wait hinted to a delivery refused for a full in-flight bound: no one knows when a slot frees, so ask again soon. */
export const IN_FLIGHT_RECHECK_MS = 1_000;

/** A delivery in flight: when it was granted and when its lease lapses (ms). */
interface Lease {
  since: number;
  until: number;
}

/** What one endpoint's pacer holds. */
export interface PacerState {
  /** Deliveries in flight by lease id; a lease lapses, so a consumer that died cannot keep its slot. */
  leases: Record<string, Lease>;
  /** When the grants within the last rate window were given (ms), oldest first. */
  grants: number[];
  /** Until when the endpoint asked us to wait (a 429 or 503 with `Retry-After`), ms; 0 when not paused. */
  pausedUntil: number;
  /**
   * The latest turn promised to a delivery sent away to wait for the rate or a slot (ms): see `sendAway`.
   */
  heldUntil: number;
  /** How long the endpoint takes to answer, smoothed (ms): how far apart turns for the in-flight bound are. */
  answerMs: number;
}

/** The endpoint's limits, as stored on it, and how long a slot lasts without a release. */
export interface PacingLimits {
  rateLimit: number | null;
  maxInFlight: number;
  leaseMs: number;
}

export type WaitReason = "paused" | "rate" | "in_flight";

export type Decision =
  | { granted: true; state: PacerState }
  | { granted: false; reason: WaitReason; waitMs: number; state: PacerState };

/** The answer time assumed before an endpoint has answered anything. */
const FIRST_ANSWER_MS = 200;

export const emptyPacerState = (): PacerState => ({
  leases: {},
  grants: [],
  pausedUntil: 0,
  heldUntil: 0,
  answerMs: FIRST_ANSWER_MS,
});

/** The state without what has lapsed by `now`: expired leases, grants older than the rate window, past turns. */
function pruned(state: PacerState, now: number): PacerState {
  const leases = Object.fromEntries(Object.entries(state.leases).filter(([, lease]) => lease.until > now));
  return {
    leases,
    grants: state.grants.filter((at) => at > now - RATE_WINDOW_MS),
    pausedUntil: state.pausedUntil > now ? state.pausedUntil : 0,
    heldUntil: state.heldUntil > now ? state.heldUntil : 0,
    answerMs: state.answerMs,
  };
}

/**
 * Whether lease `leaseId` may start now. A paused endpoint waits out its pause; then the in-flight bound; then the
 * rate (at most `rateLimit` grants in any RATE_WINDOW_MS). A refusal says which and how long at least: the pause's
 * end, when the window frees a grant, or for the bound about one answer's time (a release may free a slot sooner).
 */
export function decide(state: PacerState, limits: PacingLimits, now: number, leaseId: string): Decision {
  const s = pruned(state, now);
  if (s.pausedUntil > now) return { granted: false, reason: "paused", waitMs: s.pausedUntil - now, state: s };
  if (Object.keys(s.leases).length >= limits.maxInFlight) {
    return { granted: false, reason: "in_flight", waitMs: Math.min(answerTime(s), IN_FLIGHT_RECHECK_MS), state: s };
  }
  if (limits.rateLimit !== null && s.grants.length >= limits.rateLimit) {
    // The window frees a grant when the oldest of the last `rateLimit` grants leaves it.
    const oldest = s.grants[s.grants.length - limits.rateLimit] ?? now;
    return { granted: false, reason: "rate", waitMs: Math.max(oldest + RATE_WINDOW_MS - now, 1), state: s };
  }
  return {
    granted: true,
    state: {
      ...s,
      leases: { ...s.leases, [leaseId]: { since: now, until: now + limits.leaseMs } },
      grants: limits.rateLimit === null ? [] : [...s.grants, now],
    },
  };
}

const answerTime = (s: PacerState) => Math.max(s.answerMs, 1);

/**
 * A refused delivery sent away to come back later: how long it should wait. A pause is waited out; for the rate or
 * the bound the delivery gets the next turn (`heldUntil`), one grant's worth after the last one promised and no
 * sooner than the refusal said, so a backlog comes back spread out instead of all at once.
 */
export function sendAway(
  refusal: Extract<Decision, { granted: false }>,
  limits: PacingLimits,
  now: number,
): { waitMs: number; state: PacerState } {
  const s = refusal.state;
  if (refusal.reason === "paused") return { waitMs: refusal.waitMs, state: s };
  const spacing =
    refusal.reason === "rate" && limits.rateLimit !== null
      ? RATE_WINDOW_MS / limits.rateLimit
      : answerTime(s) / limits.maxInFlight;
  const at = Math.max(now + refusal.waitMs, s.heldUntil === 0 ? 0 : s.heldUntil + spacing);
  return { waitMs: Math.ceil(at - now), state: { ...s, heldUntil: at } };
}

/**
 * The state after lease `leaseId` ended: its slot is free, and when the endpoint asked to wait (`pauseMs`, from a
 * 429 or 503 with `Retry-After`) the whole endpoint is paused that long from `now`, never shortening a longer pause.
 */
export function released(state: PacerState, leaseId: string, pauseMs: number | null, now: number): PacerState {
  const { [leaseId]: ended, ...leases } = state.leases;
  const pausedUntil = pauseMs === null ? state.pausedUntil : Math.max(state.pausedUntil, now + pauseMs);
  // A quarter of the newest answer time, three quarters of the past: steady, yet it follows a slowing endpoint.
  const answerMs = ended ? Math.round(0.75 * state.answerMs + 0.25 * (now - ended.since)) : state.answerMs;
  return pruned({ ...state, leases, pausedUntil, answerMs }, now);
}

/** What `decideMany` gave: the leases granted (a prefix of those asked), and the refusal that stopped it, if any. */
interface ManyDecision {
  granted: string[];
  refusal: Extract<Decision, { granted: false }> | null;
  state: PacerState;
}

/**
 * `decide` for several deliveries asked at the same instant (one consumer's deliveries to one endpoint): leases are
 * granted in order while `decide` grants, and the first refusal stops it, as the same asks made one after another
 * would. The rate and in-flight bounds are `decide`'s own, applied once per lease.
 */
export function decideMany(state: PacerState, limits: PacingLimits, now: number, leaseIds: string[]): ManyDecision {
  let s = state;
  const granted: string[] = [];
  for (const leaseId of leaseIds) {
    const d = decide(s, limits, now, leaseId);
    s = d.state;
    if (!d.granted) return { granted, refusal: d, state: s };
    granted.push(leaseId);
  }
  return { granted, refusal: null, state: s };
}

/**
 * `sendAway` for `count` deliveries refused together: each gets its own turn, one grant's worth after the one before,
 * exactly as the same refusals sent away one after another.
 */
export function sendAwayMany(
  refusal: Extract<Decision, { granted: false }>,
  limits: PacingLimits,
  now: number,
  count: number,
): { waitsMs: number[]; state: PacerState } {
  let s = refusal.state;
  const waitsMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const away = sendAway({ ...refusal, state: s }, limits, now);
    waitsMs.push(away.waitMs);
    s = away.state;
  }
  return { waitsMs, state: s };
}

/** One lease given back: when its endpoint answered (ms) and the pause the answer asked for. */
export interface Release {
  leaseId: string;
  pauseMs: number | null;
  answeredAt: number;
}

/**
 * The state after several leases ended (a consumer gives back its group's slots at once): each is `released` at the
 * time its own answer came, in answer order, so the answer-time average and the pauses are what separate releases
 * at those times would have left; then what has lapsed by `now` is dropped.
 */
export function releasedMany(state: PacerState, releases: Release[], now: number): PacerState {
  const inOrder = [...releases].sort((a, b) => a.answeredAt - b.answeredAt);
  const s = inOrder.reduce((acc, r) => released(acc, r.leaseId, r.pauseMs, Math.min(r.answeredAt, now)), state);
  return pruned(s, now);
}
