import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Decision,
  decide,
  decideMany,
  emptyPacerState,
  IN_FLIGHT_RECHECK_MS,
  type PacerState,
  type PacingLimits,
  RATE_WINDOW_MS,
  released,
  releasedMany,
  sendAway,
  sendAwayMany,
} from "../../src/delivery/pacing-rules";

// One endpoint's pacing: whether a delivery gets a slot now, how long a refused one waits, and what a release does.

const T0 = Date.UTC(2026, 11, 1);
const limits = (over: Partial<PacingLimits> = {}): PacingLimits => ({
  rateLimit: null,
  maxInFlight: 10,
  leaseMs: 20_000,
  ...over,
});

/** Grants `n` leases at `now` (asserting each is granted); returns the state and their ids. */
function grantAll(state: PacerState, l: PacingLimits, now: number, n: number) {
  const ids: string[] = [];
  let s = state;
  for (let i = 0; i < n; i++) {
    const d = decide(s, l, now, `l${now}-${i}`);
    expect(d.granted).toBe(true);
    s = d.state;
    ids.push(`l${now}-${i}`);
  }
  return { state: s, ids };
}

const refusal = (d: Decision) => {
  if (d.granted) throw new Error("granted");
  return d;
};

describe("decide: a slot, or a wait and its reason", () => {
  it("grants up to max_in_flight at once, then refuses for in_flight until a release", () => {
    const l = limits({ maxInFlight: 2 });
    const { state, ids } = grantAll(emptyPacerState(), l, T0, 2);
    const refused = refusal(decide(state, l, T0, "third"));
    expect(refused.reason).toBe("in_flight");
    expect(refused.waitMs).toBeGreaterThan(0);
    expect(refused.waitMs).toBeLessThanOrEqual(IN_FLIGHT_RECHECK_MS);
    const after = released(state, ids[0] ?? "", null, T0 + 50);
    expect(decide(after, l, T0 + 50, "third").granted).toBe(true);
  });

  it("a lease that is never released lapses: a consumer that died frees its slot after leaseMs", () => {
    const l = limits({ maxInFlight: 1, leaseMs: 20_000 });
    const { state } = grantAll(emptyPacerState(), l, T0, 1);
    expect(decide(state, l, T0 + 19_999, "next").granted).toBe(false);
    expect(decide(state, l, T0 + 20_000, "next").granted).toBe(true);
  });

  it("grants rate_limit in any RATE_WINDOW_MS, and names when the window frees the next", () => {
    const l = limits({ rateLimit: 5 });
    let s = emptyPacerState();
    for (let i = 0; i < 5; i++) {
      const d = decide(s, l, T0 + i * 100, `r${i}`);
      expect(d.granted).toBe(true);
      s = released(d.state, `r${i}`, null, T0 + i * 100 + 10);
    }
    const refused = refusal(decide(s, l, T0 + 500, "sixth"));
    expect(refused).toMatchObject({ reason: "rate", waitMs: RATE_WINDOW_MS - 500 });
    expect(decide(s, l, T0 + RATE_WINDOW_MS - 1, "sixth").granted).toBe(false);
    expect(decide(s, l, T0 + RATE_WINDOW_MS, "sixth").granted).toBe(true);
  });

  it("no rate limit: any number of grants a second, bounded only in flight", () => {
    const l = limits({ rateLimit: null, maxInFlight: 100 });
    const { state } = grantAll(emptyPacerState(), l, T0, 100);
    expect(state.grants).toEqual([]);
  });

  it("a 429 or 503 with Retry-After pauses the whole endpoint: nothing is granted until the pause ends", () => {
    const l = limits();
    const { state, ids } = grantAll(emptyPacerState(), l, T0, 3);
    const paused = released(state, ids[0] ?? "", 30_000, T0 + 100);
    expect(refusal(decide(paused, l, T0 + 200, "x"))).toMatchObject({ reason: "paused", waitMs: 29_900 });
    expect(decide(paused, l, T0 + 30_099, "x").granted).toBe(false);
    // The other deliveries in flight answer later: their slots free, the pause stays.
    const later = released(released(paused, ids[1] ?? "", null, T0 + 500), ids[2] ?? "", null, T0 + 600);
    expect(refusal(decide(later, l, T0 + 700, "x")).reason).toBe("paused");
    expect(decide(later, l, T0 + 30_100, "x").granted).toBe(true);
  });

  it("a shorter Retry-After never shortens a longer pause", () => {
    const l = limits();
    const { state, ids } = grantAll(emptyPacerState(), l, T0, 2);
    const long = released(state, ids[0] ?? "", 60_000, T0);
    const short = released(long, ids[1] ?? "", 5_000, T0 + 10);
    expect(short.pausedUntil).toBe(T0 + 60_000);
  });

  it("the pause comes first: a paused endpoint with free slots and rate still waits", () => {
    const l = limits({ rateLimit: 1, maxInFlight: 1 });
    const { state, ids } = grantAll(emptyPacerState(), l, T0, 1);
    const paused = released(state, ids[0] ?? "", 5_000, T0 + 10);
    expect(refusal(decide(paused, l, T0 + 2_000, "x")).reason).toBe("paused");
  });
});

describe("sendAway: how long a refused delivery waits before it comes back", () => {
  it("a paused delivery waits out the pause, whatever was promised before", () => {
    const l = limits();
    const s = { ...emptyPacerState(), pausedUntil: T0 + 10_000, heldUntil: T0 + 50_000 };
    expect(sendAway(refusal(decide(s, l, T0, "x")), l, T0).waitMs).toBe(10_000);
  });

  it("a backlog held for the rate comes back spread out: one grant's worth between turns", () => {
    const l = limits({ rateLimit: 5 });
    const { state } = grantAll(emptyPacerState(), l, T0, 5);
    let s = state;
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const away = sendAway(refusal(decide(s, l, T0, `h${i}`)), l, T0);
      waits.push(away.waitMs);
      s = away.state;
    }
    expect(waits[0]).toBe(RATE_WINDOW_MS);
    for (let i = 1; i < waits.length; i++) {
      expect((waits[i] ?? 0) - (waits[i - 1] ?? 0)).toBe(Math.ceil(RATE_WINDOW_MS / 5));
    }
  });

  it("a backlog held for slots comes back spread by the answer time over the bound", () => {
    const l = limits({ maxInFlight: 2 });
    const { state, ids } = grantAll(emptyPacerState(), l, T0, 2);
    // The endpoint answers in about 2 s: one slot frees about every second.
    let s = released(state, ids[0] ?? "", null, T0 + 2_000);
    s = grantAll(s, l, T0 + 2_000, 1).state;
    const first = sendAway(refusal(decide(s, l, T0 + 2_000, "a")), l, T0 + 2_000);
    const second = sendAway(refusal(decide(first.state, l, T0 + 2_000, "b")), l, T0 + 2_000);
    expect(first.waitMs).toBeLessThanOrEqual(IN_FLIGHT_RECHECK_MS);
    expect(second.waitMs - first.waitMs).toBeGreaterThan(0);
    expect(second.waitMs - first.waitMs).toBe(Math.ceil(s.answerMs / 2));
  });
});

describe("properties over any sequence of asks and answers", () => {
  type Step = { dt: number; op: "ask" } | { dt: number; op: "answer"; pauseMs: number | null };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ dt: fc.integer({ min: 0, max: 400 }), op: fc.constant("ask" as const) }),
    fc.record({
      dt: fc.integer({ min: 0, max: 400 }),
      op: fc.constant("answer" as const),
      pauseMs: fc.option(fc.integer({ min: 1_000, max: 5_000 }), { freq: 4 }),
    }),
  );

  it("never more than rate_limit grants in any RATE_WINDOW_MS, never more than max_in_flight leases, none while paused", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(step, { maxLength: 200 }),
        (rate, maxInFlight, steps) => {
          const l = limits({ rateLimit: rate, maxInFlight });
          let s = emptyPacerState();
          let now = T0;
          const granted: number[] = [];
          const open: string[] = [];
          steps.forEach((st, i) => {
            now += st.dt;
            if (st.op === "answer") {
              const lease = open.shift();
              if (lease) s = released(s, lease, st.pauseMs, now);
              return;
            }
            const pausedBefore = s.pausedUntil > now;
            const d = decide(s, l, now, `k${i}`);
            s = d.state;
            if (!d.granted) {
              expect(d.waitMs).toBeGreaterThan(0);
              s = sendAway(d, l, now).state;
              return;
            }
            expect(pausedBefore).toBe(false);
            granted.push(now);
            open.push(`k${i}`);
            expect(Object.keys(s.leases).length).toBeLessThanOrEqual(maxInFlight);
            expect(granted.filter((at) => at > now - RATE_WINDOW_MS).length).toBeLessThanOrEqual(rate);
          });
        },
      ),
    );
  });

  it("a refusal's wait, once over, is not refused for the same reason by then alone (no spin on a stale wait)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 3_000 }), (rate, offset) => {
        const l = limits({ rateLimit: rate, maxInFlight: 100 });
        const { state } = grantAll(emptyPacerState(), l, T0, rate);
        const d = refusal(decide(state, l, T0 + (offset % RATE_WINDOW_MS), "x"));
        expect(d.reason).toBe("rate");
        expect(decide(d.state, l, T0 + (offset % RATE_WINDOW_MS) + d.waitMs, "x").granted).toBe(true);
      }),
    );
  });
});

describe("batch forms: one consumer's deliveries to one endpoint in one round trip", () => {
  it("decideMany grants up to max_in_flight of those asked and stops at the first refusal", () => {
    const l = limits({ maxInFlight: 3 });
    const d = decideMany(emptyPacerState(), l, T0, ["a", "b", "c", "d", "e"]);
    expect(d.granted).toEqual(["a", "b", "c"]);
    expect(d.refusal?.reason).toBe("in_flight");
    expect(Object.keys(d.state.leases).sort()).toEqual(["a", "b", "c"]);
    // Everything asked is granted when the bounds allow it: no refusal.
    expect(decideMany(emptyPacerState(), limits(), T0, ["a", "b"]).refusal).toBeNull();
  });

  it("decideMany under a rate limit grants rate_limit at once, then names the window's wait", () => {
    const l = limits({ rateLimit: 5 });
    const d = decideMany(
      emptyPacerState(),
      l,
      T0,
      Array.from({ length: 10 }, (_, i) => `r${i}`),
    );
    expect(d.granted).toHaveLength(5);
    expect(d.refusal).toMatchObject({ reason: "rate", waitMs: RATE_WINDOW_MS });
  });

  it("sendAwayMany gives each refused delivery its own turn, one grant's worth apart", () => {
    const l = limits({ rateLimit: 5 });
    const d = decideMany(
      emptyPacerState(),
      l,
      T0,
      Array.from({ length: 10 }, (_, i) => `r${i}`),
    );
    if (!d.refusal) throw new Error("not refused");
    const away = sendAwayMany(d.refusal, l, T0, 5);
    expect(away.waitsMs).toEqual([0, 1, 2, 3, 4].map((i) => RATE_WINDOW_MS + Math.ceil((i * RATE_WINDOW_MS) / 5)));
    expect(away.state.heldUntil).toBe(T0 + RATE_WINDOW_MS + 4 * (RATE_WINDOW_MS / 5));
  });

  it("releasedMany frees every slot, keeps the longest pause, and averages answer times in answer order", () => {
    const l = limits({ maxInFlight: 3 });
    const { state, ids } = grantAll(emptyPacerState(), l, T0, 3);
    const [a = "", b = "", c = ""] = ids;
    const after = releasedMany(
      state,
      [
        { leaseId: c, pauseMs: null, answeredAt: T0 + 300 },
        { leaseId: a, pauseMs: 5_000, answeredAt: T0 + 100 },
        { leaseId: b, pauseMs: null, answeredAt: T0 + 200 },
      ],
      T0 + 400,
    );
    const oneByOne = released(released(released(state, a, 5_000, T0 + 100), b, null, T0 + 200), c, null, T0 + 300);
    expect(after.leases).toEqual({});
    expect(after.pausedUntil).toBe(T0 + 5_100);
    expect(after.answerMs).toBe(oneByOne.answerMs);
  });

  type Step =
    | { dt: number; op: "ask"; n: number }
    | { dt: number; op: "answer"; n: number; pauseMs: number | null; lateMs: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      dt: fc.integer({ min: 0, max: 400 }),
      op: fc.constant("ask" as const),
      n: fc.integer({ min: 1, max: 10 }),
    }),
    fc.record({
      dt: fc.integer({ min: 0, max: 400 }),
      op: fc.constant("answer" as const),
      n: fc.integer({ min: 1, max: 10 }),
      pauseMs: fc.option(fc.integer({ min: 1_000, max: 5_000 }), { freq: 4 }),
      lateMs: fc.integer({ min: 0, max: 100 }),
    }),
  );

  it("asked and given back in groups, the pacer decides exactly as for the same deliveries one by one", () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: 8 }), { freq: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(step, { maxLength: 120 }),
        (rate, maxInFlight, steps) => {
          const l = limits({ rateLimit: rate, maxInFlight });
          let many = emptyPacerState();
          let single = emptyPacerState();
          let now = T0;
          const open: { id: string; since: number }[] = [];
          steps.forEach((st, i) => {
            now += st.dt;
            if (st.op === "answer") {
              // The group's oldest leases answered, each `lateMs` apart before `now` (never before it started).
              const ended = open.splice(0, st.n);
              const releases = ended.map((lease, j) => ({
                leaseId: lease.id,
                pauseMs: j === 0 ? st.pauseMs : null,
                answeredAt: Math.max(lease.since, now - (ended.length - j) * st.lateMs),
              }));
              many = releasedMany(many, releases, now);
              for (const r of releases) single = released(single, r.leaseId, r.pauseMs, r.answeredAt);
              return;
            }
            const ids = Array.from({ length: st.n }, (_, j) => `k${i}-${j}`);
            const d = decideMany(many, l, now, ids);
            many = d.state;
            const waitsOneByOne: number[] = [];
            const grantedOneByOne: string[] = [];
            for (const id of ids) {
              const one = decide(single, l, now, id);
              single = one.state;
              if (one.granted) {
                if (waitsOneByOne.length === 0) grantedOneByOne.push(id);
                continue;
              }
              const away = sendAway(one, l, now);
              single = away.state;
              waitsOneByOne.push(away.waitMs);
            }
            // A group asks no further once refused: the one-by-one asks after a refusal are refused too.
            expect(d.granted).toEqual(grantedOneByOne);
            expect(d.granted.length + waitsOneByOne.length).toBe(ids.length);
            if (d.refusal) {
              const away = sendAwayMany(d.refusal, l, now, ids.length - d.granted.length);
              many = away.state;
              expect(away.waitsMs).toEqual(waitsOneByOne);
            }
            for (const id of d.granted) open.push({ id, since: now });
            expect(Object.keys(many.leases).sort()).toEqual(Object.keys(single.leases).sort());
            expect(many.grants).toEqual(single.grants);
            // What is still in force at `now` (a pause or turn that ended by now is the same as none).
            const live = (at: number) => (at > now ? at : 0);
            expect(live(many.pausedUntil)).toBe(live(single.pausedUntil));
            expect(live(many.heldUntil)).toBe(live(single.heldUntil));
            expect(Object.keys(many.leases).length).toBeLessThanOrEqual(maxInFlight);
          });
        },
      ),
    );
  });
});
