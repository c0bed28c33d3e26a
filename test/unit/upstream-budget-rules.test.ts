import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BucketState,
  type BudgetPriority,
  bucketPolicy,
  freshBucket,
  grant,
  pause,
} from "../../src/upstream/budget-rules";

const T0 = Date.UTC(2026, 11, 1);

describe("an account's bucket policy", () => {
  it("is its rate per second, a capacity of `burst` seconds of it (at least a batch), a third of it kept for listings", () => {
    expect(bucketPolicy(300, 10, 10)).toEqual({ ratePerSecond: 5, capacity: 50, reserve: 16 });
    expect(bucketPolicy(60, 1, 10)).toEqual({ ratePerSecond: 1, capacity: 10, reserve: 3 });
    expect(bucketPolicy(1, 1, 1)).toEqual({ ratePerSecond: 1 / 60, capacity: 1, reserve: 0 });
  });
});

describe("grants", () => {
  const policy = bucketPolicy(600, 5, 10); // 10 per second, 50 at most, 16 kept for listings

  it("a listing may draw the bucket empty; detection stops at the reserve", () => {
    const full = freshBucket(policy, T0);
    const listing = grant(full, policy, { want: 60, priority: "listing", now: T0 });
    expect(listing).toMatchObject({ granted: 50, retryAfterMs: 0, paused: false });
    const detection = grant(full, policy, { want: 60, priority: "detection", now: T0 });
    expect(detection).toMatchObject({ granted: 34, paused: false });
    const refused = grant(detection.state, policy, { want: 1, priority: "detection", now: T0 });
    // One token above the reserve: 0.1 s at 10 per second.
    expect(refused).toMatchObject({ granted: 0, retryAfterMs: 100, paused: false });
    expect(grant(detection.state, policy, { want: 5, priority: "listing", now: T0 }).granted).toBe(5);
  });

  it("refills at the rate, never above capacity", () => {
    const empty: BucketState = { tokens: 0, updatedAt: T0, pausedUntil: 0 };
    expect(grant(empty, policy, { want: 50, priority: "listing", now: T0 + 1_000 }).granted).toBe(10);
    expect(grant(empty, policy, { want: 500, priority: "listing", now: T0 + 60_000 }).granted).toBe(50);
    expect(grant(empty, policy, { want: 1, priority: "listing", now: T0 + 50 })).toMatchObject({
      granted: 0,
      retryAfterMs: 50,
    });
  });

  it("never grants more than the capacity plus the rate over the time elapsed, whoever asks in whatever order", () => {
    const ask = fc.record({
      want: fc.integer({ min: 0, max: 40 }),
      priority: fc.constantFrom<BudgetPriority>("listing", "detection"),
      afterMs: fc.integer({ min: 0, max: 2_000 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6_000 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(ask, { maxLength: 60 }),
        (perMinute, burst, asks) => {
          const p = bucketPolicy(perMinute, burst, 10);
          let state = freshBucket(p, T0);
          let now = T0;
          let granted = 0;
          for (const a of asks) {
            now += a.afterMs;
            const d = grant(state, p, { want: a.want, priority: a.priority, now });
            expect(d.granted).toBeGreaterThanOrEqual(0);
            expect(d.granted).toBeLessThanOrEqual(a.want);
            if (d.granted === 0) expect(d.retryAfterMs).toBeGreaterThan(0);
            // Detection never takes the reserve.
            if (a.priority === "detection" && d.granted > 0)
              expect(d.state.tokens).toBeGreaterThanOrEqual(Math.min(p.reserve, p.capacity - 1));
            granted += d.granted;
            state = d.state;
          }
          expect(granted).toBeLessThanOrEqual(p.capacity + (p.ratePerSecond * (now - T0)) / 1000 + 1e-9);
        },
      ),
    );
  });

  it("a refusal's wait is enough: asking again after it is granted (when nobody else drew)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6_000 }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.constantFrom<BudgetPriority>("listing", "detection"),
        (perMinute, tokens, priority) => {
          const p = bucketPolicy(perMinute, 5, 10);
          const state = { tokens: Math.min(tokens, p.capacity), updatedAt: T0, pausedUntil: 0 };
          const first = grant(state, p, { want: 1, priority, now: T0 });
          if (first.granted > 0) return;
          const again = grant(first.state, p, { want: 1, priority, now: T0 + first.retryAfterMs });
          expect(again.granted).toBe(1);
        },
      ),
    );
  });
});

describe("a pause (an upstream 429)", () => {
  const policy = bucketPolicy(600, 5, 10);

  it("refuses everyone until it ends, then grants only what refilled since", () => {
    const paused = pause(freshBucket(policy, T0), policy, T0 + 3_000, T0);
    for (const priority of ["listing", "detection"] as const) {
      expect(grant(paused, policy, { want: 1, priority, now: T0 + 2_999 })).toMatchObject({
        granted: 0,
        retryAfterMs: 1,
        paused: true,
      });
    }
    expect(grant(paused, policy, { want: 50, priority: "listing", now: T0 + 4_000 }).granted).toBe(10);
  });

  it("a shorter pause does not end a longer one", () => {
    const long = pause(freshBucket(policy, T0), policy, T0 + 10_000, T0);
    const short = pause(long, policy, T0 + 1_000, T0 + 500);
    expect(short.pausedUntil).toBe(T0 + 10_000);
    expect(grant(short, policy, { want: 1, priority: "listing", now: T0 + 5_000 }).paused).toBe(true);
  });
});
