import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../src/upstream/circuit-breaker";
import { backoffDelay, parseRetryAfter, retryAfterSeconds } from "../../src/upstream/retry";

describe("full-jitter back-off", () => {
  it("waits a uniform amount in [0, min(cap, base·2^(attempt-1))]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, maxDelayMs, r) => {
          const delay = backoffDelay(attempt, { maxAttempts: 3, baseMs, maxDelayMs }, () => r);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.min(maxDelayMs, baseMs * 2 ** (attempt - 1)));
        },
      ),
    );
    const policy = { maxAttempts: 3, baseMs: 200, maxDelayMs: 2_000 };
    expect(backoffDelay(1, policy, () => 0.999_999)).toBe(200);
    expect(backoffDelay(3, policy, () => 0.999_999)).toBe(800);
    expect(backoffDelay(9, policy, () => 0.999_999)).toBe(2_000);
  });
});

describe("Retry-After", () => {
  const now = Date.UTC(2026, 10, 1, 0, 0, 0);

  it("reads delta-seconds and HTTP-dates; anything else is ignored", () => {
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
    expect(parseRetryAfter("Sun, 01 Nov 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Sat, 31 Oct 2026 00:00:00 GMT", now)).toBe(0);
    for (const junk of [null, "", "-1", "1.5", "soon", "1e3", "99999999999", "Sun, 01 Nov 2026"]) {
      expect(parseRetryAfter(junk, now), String(junk)).toBeNull();
    }
  });

  it("never throws, and is null or a non-negative finite number for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (s) => {
        const ms = parseRetryAfter(s, now);
        expect(ms === null || (Number.isFinite(ms) && ms >= 0)).toBe(true);
      }),
    );
  });

  it("is announced in whole seconds, at least one", () => {
    expect(retryAfterSeconds(0)).toBe("1");
    expect(retryAfterSeconds(1_001)).toBe("2");
    expect(retryAfterSeconds(30_000)).toBe("30");
  });
});

describe("circuit breaker", () => {
  const policy = { threshold: 3, cooldownMs: 1_000 };

  it("closed → open after the threshold → one probe → closed on success", () => {
    const b = new CircuitBreaker();
    const closed = b.admit(policy, 0);
    for (let i = 0; i < 3; i++) b.failure(policy, 10, closed);
    expect(b.state(10)).toBe("open");
    expect(b.admit(policy, 500)).toEqual({ kind: "open", retryAfterMs: 510 });
    const probe = b.admit(policy, 1_010);
    expect(probe).toEqual({ kind: "probe" });
    expect(b.admit(policy, 1_020).kind).toBe("open");
    b.success();
    expect(b.state(1_030)).toBe("closed");
    expect(b.admit(policy, 1_030)).toEqual({ kind: "closed" });
  });

  it("a failed probe re-opens it; a released probe lets the next call probe", () => {
    const b = new CircuitBreaker();
    for (let i = 0; i < 3; i++) b.failure(policy, 0, { kind: "closed" });
    const probe = b.admit(policy, 1_000);
    b.failure(policy, 1_100, probe);
    expect(b.admit(policy, 1_200)).toEqual({ kind: "open", retryAfterMs: 900 });
    const second = b.admit(policy, 2_100);
    expect(second.kind).toBe("probe");
    b.release(second);
    expect(b.admit(policy, 2_200).kind).toBe("probe");
  });

  it("a lost probe cannot wedge it: the probe's lease runs out", () => {
    const b = new CircuitBreaker();
    for (let i = 0; i < 3; i++) b.failure(policy, 0, { kind: "closed" });
    expect(b.admit(policy, 1_000).kind).toBe("probe");
    expect(b.admit(policy, 1_500).kind).toBe("open");
    expect(b.admit(policy, 2_001).kind).toBe("probe");
  });

  it("threshold 0 never opens", () => {
    const off = { threshold: 0, cooldownMs: 1_000 };
    const b = new CircuitBreaker();
    for (let i = 0; i < 100; i++) b.failure(off, i, { kind: "closed" });
    expect(b.admit(off, 100)).toEqual({ kind: "closed" });
  });

  it("under any sequence of outcomes, it opens only after `threshold` consecutive failures", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), (outcomes) => {
        const b = new CircuitBreaker();
        let run = 0;
        for (const ok of outcomes) {
          const admission = b.admit({ threshold: 4, cooldownMs: 1e12 }, 0);
          if (admission.kind === "open") {
            expect(run).toBeGreaterThanOrEqual(4);
            return;
          }
          if (ok) {
            b.success();
            run = 0;
          } else {
            b.failure({ threshold: 4, cooldownMs: 1e12 }, 0, admission);
            run += 1;
          }
        }
        expect(b.state(0) === "open").toBe(run >= 4);
      }),
    );
  });
});
