import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isIso8601, toRfc3339 } from "../../src/shared/time";
import { referenceToRfc3339 } from "./support/time-reference";
import { timestampLike } from "./support/timestamps";

const outcome = (f: (s: string) => string, s: string) => {
  try {
    return { ok: f(s) };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

describe("toRfc3339's fast path (no simulator)", () => {
  it("answers exactly as the Date-based reference: same output, same rejections, same messages", () => {
    let cases = 0;
    let accepted = 0;
    fc.assert(
      fc.property(timestampLike, (s) => {
        cases++;
        const expected = outcome(referenceToRfc3339, s);
        if ("ok" in expected) accepted++;
        expect(outcome(toRfc3339, s)).toEqual(expected);
        expect(isIso8601(s)).toBe("ok" in expected);
      }),
      { numRuns: 20_000, seed: 20261128 },
    );
    expect(cases).toBe(20_000);
    // Both sides of the line are well covered, not just one.
    expect(accepted).toBeGreaterThan(3_000);
    expect(cases - accepted).toBeGreaterThan(3_000);
  });

  it.each([
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000000Z"],
    ["2023-02-29T00:00:00Z", null],
    ["2000-02-29T23:59:59.9999999z", "2000-02-29T23:59:59.999999Z"],
    ["1900-02-29T00:00:00Z", null],
    ["0000-02-29T00:00:00Z", "0000-02-29T00:00:00.000000Z"],
    ["0000-01-01T00:30:00+01:00", null],
    ["9999-12-31T23:30:00-01:00", null],
    ["2023-11-07T04:31:22,5+0200", "2023-11-07T02:31:22.500000Z"],
    ["2023-11-07t04:31:22-00:00", "2023-11-07T04:31:22.000000Z"],
    ["2023-04-31T00:00:00Z", null],
    ["2023-01-01T23:59:60Z", null],
    ["2023-01-01T00:00:00.123456Z", "2023-01-01T00:00:00.123456Z"],
    ["2023-01-01t00:00:00.123456Z", "2023-01-01T00:00:00.123456Z"],
    ["2023-01-01T00:00:00.123456z", "2023-01-01T00:00:00.123456Z"],
    ["2023-01-01T00:00:00,123456Z", "2023-01-01T00:00:00.123456Z"],
    ["2023-01-01T00:00:00Z\n", null],
    ["2023-01-01T00:00:00.Z", null],
    ["2023-01-01T00:00:00+05:", null],
    ["2023-01-01T00:00:00+05:3", null],
    ["2023-01-01T00:00:00+053", null],
    ["2023-01-01T00:00:00+05:30", "2022-12-31T18:30:00.000000Z"],
    ["2023-01-01T00:00:00.1234567-0530", "2023-01-01T05:30:00.123456Z"],
    ["２023-01-01T00:00:00Z", null],
  ])("%s → %s", (input, expected) => {
    expect(outcome(toRfc3339, input)).toEqual(outcome(referenceToRfc3339, input));
    if (expected === null) expect(isIso8601(input)).toBe(false);
    else expect(toRfc3339(input)).toBe(expected);
  });
});
