import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url } from "../../src/shared/base64url";
import { readTokenUnverified, signingKeys, signToken, verifyToken } from "../../src/shared/signed-token";

const encoder = new TextEncoder();
const ONE = "signed-token-test-secret-one-0123456789";
const TWO = "signed-token-test-secret-two-0123456789";

const oldKeys = await signingKeys([{ id: "k1", secret: ONE }]);
const newKeys = await signingKeys([{ id: "k2", secret: TWO }]);
/** After a rotation: k2 signs, k1 still verifies. */
const rotated = await signingKeys([
  { id: "k2", secret: TWO },
  { id: "k1", secret: ONE },
]);

const payloadOf = (value: unknown) => encoder.encode(JSON.stringify(value));

/** The failure a token verifies to, or "ok". */
async function outcome(token: string, keys = rotated): Promise<string> {
  const verified = await verifyToken(token, keys);
  return verified.ok ? "ok" : verified.failure;
}

/** A token's parts with one byte of the decoded part at `index` changed by `mask` (not 0), re-encoded. */
function withChangedByte(part: string, index: number, mask: number): string {
  const bytes = fromBase64Url(part);
  const i = index % bytes.length;
  bytes[i] = (bytes[i] ?? 0) ^ mask;
  return toBase64Url(bytes);
}

describe("signed tokens", () => {
  it("are kid.payload.mac: HMAC-SHA256 of `kid.payload` cut to 16 bytes, base64url", async () => {
    // Computed outside the module (Node's HMAC-SHA256 over "k1.eyJwIjo0Mn0"): the bytes every issued cursor has.
    expect(await signToken(payloadOf({ p: 42 }), oldKeys)).toBe("k1.eyJwIjo0Mn0.j7yAl8gNs5B2YX2Pn2zfeQ");
  });

  it("round-trip any payload, deterministically, URL-safe", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (payload) => {
        const token = await signToken(payload, rotated);
        expect(token).toMatch(/^k2\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/);
        expect(await signToken(payload, rotated)).toBe(token);
        expect(await verifyToken(token, rotated)).toEqual({ ok: true, kid: "k2", payload });
      }),
      { seed: 3, numRuns: 100 },
    );
  });

  it("fail when any byte of the payload or the MAC changes", async () => {
    const token = await signToken(payloadOf({ r: "inkit.runs", p: [1, 2, 3], s: 1_733_000_000_000 }), rotated);
    const [kid, body, tag] = token.split(".") as [string, string, string];
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (index, mask) => {
        expect(await outcome(`${kid}.${withChangedByte(body, index, mask)}.${tag}`)).toBe("modified");
        expect(await outcome(`${kid}.${body}.${withChangedByte(tag, index, mask)}`)).toBe("modified");
      }),
      { seed: 5, numRuns: 200 },
    );
  });

  it("fail when any character of the key id or the payload changes", async () => {
    const token = await signToken(payloadOf({ b: "binding", l: 50 }), rotated);
    const [kid, body, tag] = token.split(".") as [string, string, string];
    const signed = `${kid}.${body}`;
    for (let i = 0; i < signed.length; i++) {
      if (signed[i] === ".") continue;
      for (const ch of ["A", "z", "-", "_"]) {
        if (signed[i] === ch) continue;
        const changed = `${signed.slice(0, i)}${ch}${signed.slice(i + 1)}.${tag}`;
        // A changed key id names no key, or the other one (whose MAC differs).
        expect(["unknown-key", "modified"], changed).toContain(await outcome(changed));
      }
    }
    // The other key's id on this key's token: the key id is under the MAC.
    expect(await outcome(`k1.${body}.${tag}`)).toBe("modified");
  });

  it("fail when signed with a key id not among the keys", async () => {
    const token = await signToken(payloadOf({ p: 1 }), oldKeys);
    expect(await outcome(token, newKeys)).toBe("unknown-key");
    expect(await outcome(token.replace(/^k1\./, "k9."), rotated)).toBe("unknown-key");
    expect(await outcome(token, [])).toBe("unknown-key");
  });

  it("fail when the key id is known but its secret is another", async () => {
    const token = await signToken(payloadOf({ p: 1 }), oldKeys);
    const impostor = await signingKeys([{ id: "k1", secret: TWO }]);
    expect(await outcome(token, impostor)).toBe("modified");
  });

  it("keep verifying after a rotation while the old key is listed, and sign with the first", async () => {
    const payload = payloadOf({ p: 7 });
    const old = await signToken(payload, oldKeys);
    expect(await verifyToken(old, rotated)).toEqual({ ok: true, kid: "k1", payload });
    expect(await outcome(old, newKeys)).toBe("unknown-key");
    const fresh = await signToken(payload, rotated);
    expect(fresh.startsWith("k2.")).toBe(true);
    expect(fresh).toBe(await signToken(payload, newKeys));
    expect(await outcome(fresh, oldKeys)).toBe("unknown-key");
  });

  it("fail cleanly when malformed, never throwing", async () => {
    const token = await signToken(payloadOf({ p: 1 }), rotated);
    const [kid, body, tag] = token.split(".") as [string, string, string];
    for (const bad of [
      "",
      ".",
      "...",
      "k2",
      `${kid}.${body}`,
      `${token}.`,
      `${token}.${tag}`,
      `${kid}.${body}.${tag}%`,
      `${kid}.${body}.${tag}=`,
      `${kid}.${"A".repeat(4096)}.${tag}`,
    ]) {
      expect(await outcome(bad), bad).toBe("malformed");
    }
    // A MAC of the wrong length (none at all, too long, too short) is a modification, not a crash.
    expect(await outcome(`${kid}.${body}.`)).toBe("modified");
    expect(await outcome(`${kid}.${body}.${tag}AA`)).toBe("modified");
    expect(await outcome(`${kid}.${body}.${tag.slice(0, 8)}`)).toBe("modified");
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        expect(await outcome(text)).not.toBe("ok");
      }),
      { seed: 9, numRuns: 300 },
    );
  });

  it("name a payload that is not base64url under a valid MAC (only a key holder can make one)", async () => {
    const [signer] = await signingKeys([{ id: "k2", secret: TWO }]);
    if (!signer) throw new Error("no key");
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", signer.key, encoder.encode("k2.%%%"))).slice(0, 16);
    expect(await outcome(`k2.%%%.${toBase64Url(mac)}`)).toBe("undecodable");
  });

  it("cannot be signed without a key", async () => {
    await expect(signToken(payloadOf({}), [])).rejects.toThrow();
  });
});

describe("reading a token without verifying it", () => {
  it("gives the key id and payload of a token, whatever its MAC", async () => {
    const payload = payloadOf({ s: 1 });
    const token = await signToken(payload, rotated);
    const [kid, body] = token.split(".") as [string, string, string];
    expect(readTokenUnverified(token)).toEqual({ kid: "k2", payload });
    expect(readTokenUnverified(`${kid}.${body}.forged`)).toEqual({ kid: "k2", payload });
    expect(readTokenUnverified(`${kid}.${body}`)).toEqual({ kid: "k2", payload });
  });

  it("is null without a payload part, or with one that is not base64url", () => {
    for (const bad of ["", "k2", "k2.not base64!", "k2.%%%.AAAA"]) expect(readTokenUnverified(bad), bad).toBeNull();
  });
});
