// base64url by table (src/shared/base64url.ts) against the platform's btoa/atob with the alphabet's replacements.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url } from "../../src/shared/base64url";

const viaBtoa = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

describe("base64url", () => {
  it("encodes as btoa does, with - and _ and no padding, and decodes back", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toBe(viaBtoa(bytes));
        expect([...fromBase64Url(text)]).toEqual([...bytes]);
      }),
    );
  });

  it("refuses characters outside the alphabet, padding, and a length no encoding has", () => {
    for (const text of ["AB=", "A+B", "A/B", "é", "A B", "A"]) expect(() => fromBase64Url(text), text).toThrow();
    expect([...fromBase64Url("")]).toEqual([]);
    expect(new TextDecoder().decode(fromBase64Url("Zm9v"))).toBe("foo");
  });
});
