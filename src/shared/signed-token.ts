/**
 * Signed tokens, as the listing cursors (paging/cursor.ts) and the event stream's cursor (stream/cursor.ts) travel:
 * `kid.payload.mac`, URL-safe. The payload is base64url bytes; the MAC is HMAC-SHA256 over the text `kid.payload`
 * (so the key id is signed too), cut to its first 16 bytes, base64url. Keys are known by id: the first signs, every
 * one verifies, so a secret can be rotated without breaking the tokens signed before. A token is signed, not
 * encrypted: its payload is readable by anyone who holds it (encryption is shared/sealing.ts).
 *
 * What a token carries, how long it lives and how a failure is worded belong to its users.
 */
import { fromBase64Url, toBase64Url } from "./base64url";

/** An HMAC-SHA256 key and the id a token names it by. */
export interface SigningKey {
  id: string;
  key: CryptoKey;
}

/** Why a token did not verify. */
export type TokenFailure =
  /** Not three parts, over the maximum length, or a MAC that is not base64url. */
  | "malformed"
  /** Signed with a key id that is not (or no longer) among the keys. */
  | "unknown-key"
  /** The MAC does not match the key id and payload: modified, corrupt or forged. */
  | "modified"
  /**
   * The MAC matches but the payload is not base64url. Only a holder of the key could make one: `signToken` never
   * does.
   */
  | "undecodable";

/** The outcome of `verifyToken`: the payload's bytes and the id of the key that signed them, or why not. */
type VerifiedToken = { ok: true; kid: string; payload: Uint8Array } | { ok: false; failure: TokenFailure };

/** The longest token `verifyToken` reads. */
const MAX_TOKEN_LENGTH = 4096;
/** The MAC's length: the first 16 bytes of the HMAC-SHA256. */
const MAC_BYTES = 16;

const encoder = new TextEncoder();

/**
 * Imports each secret as an HMAC-SHA256 key under its id, in order: the first signs. The secrets' rules (how many,
 * how long) are the caller's.
 * @example await signingKeys([{ id: "k2", secret: "…" }, { id: "k1", secret: "…" }])
 */
export function signingKeys(entries: readonly { id: string; secret: string }[]): Promise<SigningKey[]> {
  return Promise.all(
    entries.map(async ({ id, secret }) => {
      const key = await crypto.subtle.importKey(
        "raw",
        encoder.encode(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
      return { id, key };
    }),
  );
}

async function mac(key: CryptoKey, data: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data))).slice(0, MAC_BYTES);
}

/**
 * Signs a payload with the first key: `kid.payload.mac`. The same payload and key give the same token.
 * @example await signToken(new TextEncoder().encode('{"p":42}'), keys) // "k2.eyJwIjo0Mn0.…"
 */
export async function signToken(payload: Uint8Array, keys: readonly SigningKey[]): Promise<string> {
  const signer = keys[0];
  if (!signer) throw new Error("no signing key");
  const body = `${signer.id}.${toBase64Url(payload)}`;
  return `${body}.${toBase64Url(await mac(signer.key, body))}`;
}

/**
 * Verifies a token against the key its id names, among `keys`, and returns its payload's bytes; anything modified,
 * foreign or malformed is a failure, never another payload. The MAC is compared in constant time.
 */
export async function verifyToken(token: string, keys: readonly SigningKey[]): Promise<VerifiedToken> {
  const parts = token.split(".");
  if (parts.length !== 3 || token.length > MAX_TOKEN_LENGTH) return { ok: false, failure: "malformed" };
  const [kid, body, tag] = parts as [string, string, string];
  const key = keys.find((k) => k.id === kid);
  if (!key) return { ok: false, failure: "unknown-key" };
  let presented: Uint8Array;
  try {
    presented = fromBase64Url(tag);
  } catch {
    return { ok: false, failure: "malformed" };
  }
  // The MAC is cut to 16 bytes, which crypto.subtle.verify does not accept (it wants the whole HMAC): so it is
  // recomputed and compared with the runtime's constant-time comparison. Its length is no secret.
  const expected = await mac(key.key, `${kid}.${body}`);
  if (presented.length !== expected.length || !crypto.subtle.timingSafeEqual(presented, expected)) {
    return { ok: false, failure: "modified" };
  }
  try {
    return { ok: true, kid, payload: fromBase64Url(body) };
  } catch {
    return { ok: false, failure: "undecodable" };
  }
}

/**
 * A token's key id and payload bytes WITHOUT verifying it: for what only describes a token already handed out (an
 * entity tag), never for deciding anything. The MAC is neither checked nor required (`kid.payload` reads too); null
 * when there is no payload part or it is not base64url.
 */
export function readTokenUnverified(token: string): { kid: string; payload: Uint8Array } | null {
  const [kid, body] = token.split(".");
  if (kid === undefined || body === undefined) return null;
  try {
    return { kid, payload: fromBase64Url(body) };
  } catch {
    return null;
  }
}
