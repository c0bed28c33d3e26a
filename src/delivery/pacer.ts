/**
 * `EndpointPacer`: one Durable Object per webhook endpoint (`idFromName(endpoint id)`), the single place its
 * deliveries' slots, rate window and pause are kept, whichever consumer invocation asks. The rules are in
 * pacing-rules.ts; this is their I/O edge.
 */
import { DurableObject } from "cloudflare:workers";
import {
  decide,
  emptyPacerState,
  type PacerState,
  type PacingLimits,
  released,
  sendAway,
  type WaitReason,
} from "./pacing-rules";

/** A slot to POST (`lease` to release), or how long to wait and why. */
export type SlotAnswer = { granted: true; lease: string } | { granted: false; reason: WaitReason; waitMs: number };

const PAUSE_KEY = "paused_until";

export class EndpointPacer extends DurableObject<Env> {
  private state: PacerState = emptyPacerState();
  /** Waiters parked in `acquire`: woken when a slot is released, so none polls. */
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
   * A slot for one delivery. A refusal whose wait fits in `waitUpToMs` is waited out here (a full in-flight bound
   * until a release or the deadline), so short waits cost no re-queue; a longer one is answered at once, with the
   * delivery's turn to come back (`sendAway`).
   */
  async acquire(limits: PacingLimits, waitUpToMs: number): Promise<SlotAnswer> {
    const lease = crypto.randomUUID();
    const deadline = Date.now() + waitUpToMs;
    for (;;) {
      const now = Date.now();
      const d = decide(this.state, limits, now, lease);
      this.state = d.state;
      if (d.granted) return { granted: true, lease };
      const left = deadline - now;
      if (left <= 0 || (d.reason !== "in_flight" && d.waitMs > left)) {
        const away = sendAway(d, limits, now);
        this.state = away.state;
        return { granted: false, reason: d.reason, waitMs: away.waitMs };
      }
      await this.nap(d.reason === "in_flight" ? left : d.waitMs);
    }
  }

  /** Ends a lease; `pauseMs` (a 429 or 503 with Retry-After) pauses the whole endpoint that long. */
  async release(lease: string, pauseMs: number | null): Promise<void> {
    const before = this.state.pausedUntil;
    this.state = released(this.state, lease, pauseMs, Date.now());
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
