import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, fingerprintOf } from "../../src/http/idempotency";
import { ifMatchMatches } from "../../src/http/preconditions";

/** The same JSON value with every object's keys in another order. */
function reordered(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => reordered(v, seed + i));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const shuffled = entries.map((e, i) => [(i * 7919 + seed) % (entries.length + 3), e] as const);
  shuffled.sort((a, b) => a[0] - b[0]);
  return Object.fromEntries(shuffled.map(([, [k, v]]) => [k, reordered(v, seed + 1)]));
}

describe("request fingerprints (Idempotency-Key)", () => {
  it("canonical JSON ignores key order and spacing, at every depth", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.nat(), (value, seed) => {
        const text = canonicalJson(value);
        expect(canonicalJson(reordered(value, seed))).toBe(text);
        expect(canonicalJson(JSON.parse(JSON.stringify(value, null, 2)))).toBe(text);
      }),
    );
  });

  it("canonical JSON tells different values apart: it parses back to the value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
    expect(canonicalJson({ a: [1, { c: null, b: "x" }] })).toBe('{"a":[1,{"b":"x","c":null}]}');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it("a fingerprint covers path parameters and body, nothing else", async () => {
    const a = await fingerprintOf({ param: { id: "we_1" }, json: { since: "2026-01-01T00:00:00Z" } });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await fingerprintOf({ json: { since: "2026-01-01T00:00:00Z" }, param: { id: "we_1" } })).toBe(a);
    expect(await fingerprintOf({ param: { id: "we_2" }, json: { since: "2026-01-01T00:00:00Z" } })).not.toBe(a);
    expect(await fingerprintOf({ param: { id: "we_1" }, json: { since: "2026-01-02T00:00:00Z" } })).not.toBe(a);
    // An operation without a body: its path parameters alone.
    expect(await fingerprintOf({ param: { id: "we_1" }, json: undefined })).not.toBe(
      await fingerprintOf({ param: { id: "we_2" }, json: undefined }),
    );
  });
});

describe("If-Match (RFC 9110 §13.1.1)", () => {
  const tag = '"3f1c0e9a7b2d4c6e8f0a1b2c3d4e5f60"';

  it.each([
    [tag, true],
    ["*", true],
    [" * ", true],
    [`"0000", ${tag}`, true],
    [`"0000",${tag}`, true],
    [`W/${tag}`, false],
    ['"0000"', false],
    [`"a,b", ${tag}`, true],
    ['"a,b"', false],
  ])("%s matches: %s", (ifMatch, matches) => {
    expect(ifMatchMatches(ifMatch, tag)).toBe(matches);
  });

  it("compares tags whole: a tag that contains another's text does not match it", () => {
    expect(ifMatchMatches('"3f1c"', '"3f1c0"')).toBe(false);
    expect(ifMatchMatches('"3f1c0"', '"3f1c"')).toBe(false);
  });
});
