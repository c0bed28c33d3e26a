/**
 * `EndpointPacer`: one Durable Object per webhook endpoint (`idFromName(endpoint id)`), the single place its
 * deliveries' slots, rate window and pause are kept, whichever consumer invocation asks. The rules are in
 * pacing-rules.ts; this is their I/O edge.
 */
import { DurableObject } from "cloudflare:workers";
import {
  decideMany,
  emptyPacerState,
  type PacerState,
  type PacingLimits,
  type Release,
  releasedMany,
  sendAwayMany,
  type WaitReason,
} from "./pacing-rules";

/** A lease given back: how long ago (ms, the consumer's measure) its endpoint answered, and the pause it asked for. */
export interface GivenBack {
  lease: string;
  pauseMs: number | null;
  answeredAgoMs: number;
}

/** One round trip from a consumer: the slots it gives back, then how many deliveries want one. */
export interface PaceAsk {
  limits: PacingLimits;
  release: GivenBack[];
  want: number;
  /** How long the wanting deliveries may still wait here for a first slot. */
  waitUpToMs: number;
}

/**
 * The answer, in the order of the deliveries asked: the first `leases.length` got a slot, the next `away.length` are
 * sent away (held, each with its own wait), and the last `pending` may ask again once the granted ones are answered
 * (their wait is short enough to wait out in place).
 */
export interface PaceAnswer {
  leases: string[];
  away: { reason: WaitReason; waitMs: number }[];
  pending: number;
}

const PAUSE_KEY = "paused_until";

export class EndpointPacer extends DurableObject<Env> {
  private state: PacerState = emptyPacerState();
  /** Waiters parked in `pace`: woken when a slot is released, so none polls. */
  private readonly wakers = new Set<() => void>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Only the pause outlives the object: leases lapse within a delivery timeout and grants within a second, while a
    // pause (Retry-After) may last hours.
    void ctx.blockConcurrencyWhile(async () => {
      this.state.pausedUntil = (await ctx.storage.get<number>(PAUSE_KEY)) ?? 0;
    });
  }

  /**
   * One consumer's round trip for one endpoint: gives back `release` (a 429 or 503 with Retry-After pauses the whole
   * endpoint), then grants slots to as many of the `want` deliveries as the rules allow now. When none can start, a
   * wait that fits in `waitUpToMs` is waited out here (a full in-flight bound until a release or the deadline), so
   * short waits cost no re-queue; a longer one is answered at once, every delivery with its own turn (`sendAway`).
   * When some start and the rest's wait is short, the rest are left `pending`: the consumer asks again with the
   * granted ones' release, which is when a slot of its own frees.
   */
  async pace(ask: PaceAsk): Promise<PaceAnswer> {
    if (ask.release.length > 0) await this.giveBack(ask.release);
    const answer: PaceAnswer = { leases: [], away: [], pending: 0 };
    if (ask.want <= 0) return answer;
    const { limits } = ask;
    const deadline = Date.now() + ask.waitUpToMs;
    for (;;) {
      const now = Date.now();
      const d = decideMany(
        this.state,
        limits,
        now,
        Array.from({ length: ask.want }, () => crypto.randomUUID()),
      );
      this.state = d.state;
      answer.leases = d.granted;
      const refusal = d.refusal;
      if (refusal === null) return answer;
      const rest = ask.want - d.granted.length;
      const left = deadline - now;
      if (left <= 0 || (refusal.reason !== "in_flight" && refusal.waitMs > left)) {
        const away = sendAwayMany(refusal, limits, now, rest);
        this.state = away.state;
        answer.away = away.waitsMs.map((waitMs) => ({ reason: refusal.reason, waitMs }));
        return answer;
      }
      if (d.granted.length > 0) {
        answer.pending = rest;
        return answer;
      }
      await this.nap(refusal.reason === "in_flight" ? left : refusal.waitMs);
    }
  }

  /** Ends leases, each at the time its endpoint answered, and wakes the waiters. */
  private async giveBack(release: GivenBack[]): Promise<void> {
    const now = Date.now();
    const before = this.state.pausedUntil;
    const releases: Release[] = release.map((r) => ({
      leaseId: r.lease,
      pauseMs: r.pauseMs,
      answeredAt: now - Math.max(0, r.answeredAgoMs),
    }));
    this.state = releasedMany(this.state, releases, now);
    if (this.state.pausedUntil !== before) await this.ctx.storage.put(PAUSE_KEY, this.state.pausedUntil);
    for (const wake of [...this.wakers]) wake();
  }

  /** Sleeps `ms`, or less when a release wakes it. */
  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}
