import { z } from "@hono/zod-openapi";
import { cursorSecretEntries, cursorSecretProblem } from "../config";
import { fromBase64Url, toBase64Url } from "../shared/base64url";
import {
  readTokenUnverified,
  type SigningKey,
  signingKeys,
  signToken,
  type TokenFailure,
  verifyToken,
} from "../shared/signed-token";
import { WalkError } from "./errors";
import type { Keyset } from "./order";
import type { LaneState } from "./positions";

const keyset = z.tuple([z.string(), z.string(), z.string()]);

const laneFields = [
  z.number().int().min(0),
  z.number().int().min(0),
  z.number().int().min(0).nullable(),
  z.number().int().min(0),
  z.string().nullable(),
  z.string().nullable(),
  z.union([z.literal(0), z.literal(1)]),
] as const;

/**
 * One lane's place: `[at, span, total, cap, head, version, done]`, plus its own keyset when it differs from
 * the walk's (a lane that failed under `partial=true` keeps its place). See LaneState.
 */
const laneTuple = z.union([z.tuple(laneFields), z.tuple([...laneFields, keyset.nullable()])]);

/**
 * What a cursor carries. A position is a keyset in tributary's order (creation time, provider, id); upstream
 * offsets ride along only as hints, so one scheme serves the page model (Inkit) and the offset model (8x8).
 */
const PayloadBase = z.object({
  /** Route id the cursor was issued by. */
  r: z.string(),
  /**
   * Digest binding the cursor to the caller (its API key id) and the upstream credential in use (listing.ts,
   * bindingDigest). Path parameters are not in it: they travel in `f` with the filters and are checked there.
   */
  b: z.string(),
  /** The canonical filters and sort of the walk, so later requests may omit them. */
  f: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  /** Limit of the page that issued the cursor: the default for the next request. */
  l: z.number().int().min(1),
  /** Direction: `n` reads the page after the position, `p` the page before it. */
  d: z.enum(["n", "p"]),
  /** The walk's position: the last item of the page (`n`) or its first (`p`); null in upstream order. */
  k: keyset.nullable(),
  /**
   * Snapshot time (unix ms): when the walk's first page was fetched upstream. Items created after it are
   * new arrivals, and the walk's cursors expire a fixed time after it. Derived from the data, not the
   * clock, so identical cached pages carry identical cursors (and ETags).
   */
  s: z.number().int(),
});

/**
 * What a cursor carries. Format 3 (what is signed now): the lanes packed by `lane-codec.ts`, so a feed of 100 sources
 * keeps a short cursor. Format 2 (still verified, for cursors issued before it): one JSON tuple per lane.
 */
export const CursorPayloadSchema = z.union([
  PayloadBase.extend({
    v: z.literal(3),
    /** The lanes, one per source in the walk's order (see lane-codec.ts). */
    p: z.string().max(4096),
    /** The newest of the lanes' heads when the walk began, rounded up to the second: the base of each lane's head. */
    h: z.string().nullable(),
  }),
  PayloadBase.extend({
    v: z.literal(2),
    /** One entry per lane (source), or null for a lane with nothing left in this direction. */
    p: z.array(laneTuple.nullable()),
  }),
]);

export type CursorPayload = z.infer<typeof CursorPayloadSchema>;
/** The format new cursors are issued in (3). */
export type IssuedPayload = Extract<CursorPayload, { v: 3 }>;

const encoder = new TextEncoder();

/**
 * Parses `CURSOR_SECRET`: comma-separated `kid:secret` pairs. The first signs new cursors;
 * the rest still verify, so a secret can be rotated without breaking live cursors. Missing, or with a secret under
 * 32 bytes, paging is not configured (503).
 */
export async function cursorKeys(secret: string | undefined): Promise<SigningKey[]> {
  const known = secret === undefined ? undefined : importedKeys.get(secret);
  if (known) return known;
  const entries = cursorSecretEntries(secret);
  const problem = entries.length === 0 ? "CURSOR_SECRET is unset" : cursorSecretProblem(secret);
  if (problem !== null) {
    throw new WalkError("unconfigured", `Paging is not configured for this deployment (${problem}).`);
  }
  const keys = signingKeys(entries);
  if (importedKeys.size >= 8) importedKeys.clear();
  importedKeys.set(secret as string, keys);
  keys.catch(() => importedKeys.delete(secret as string));
  return keys;
}

// The keys of a CURSOR_SECRET value, imported once per isolate (every list request signs or verifies with them).
const importedKeys = new Map<string, Promise<SigningKey[]>>();

/** Signs a payload as `kid.payload.mac`, all URL-safe (shared/signed-token.ts). */
export async function signCursor(payload: CursorPayload, keys: SigningKey[]): Promise<string> {
  return signToken(packPayload(payload), keys);
}

/** Format 3 marker: the payload's JSON (without the lanes), then the packed lanes as raw bytes. */
const PACKED = 3;

/**
 * A payload as the bytes a cursor carries. Format 3 puts the lanes' bytes after the JSON as they are, so they are
 * base64-encoded once (inside the JSON they would be encoded twice, a third longer).
 */
function packPayload(payload: CursorPayload): Uint8Array {
  if (payload.v !== 3) return encoder.encode(JSON.stringify(payload));
  const { p, ...rest } = payload;
  const json = encoder.encode(JSON.stringify(rest));
  const lanes = fromBase64Url(p);
  const size: number[] = [];
  for (let n = json.length; ; n = Math.floor(n / 0x80)) {
    size.push(n >= 0x80 ? (n % 0x80) | 0x80 : n);
    if (n < 0x80) break;
  }
  const bytes = new Uint8Array(1 + size.length + json.length + lanes.length);
  bytes[0] = PACKED;
  bytes.set(size, 1);
  bytes.set(json, 1 + size.length);
  bytes.set(lanes, 1 + size.length + json.length);
  return bytes;
}

/** Inverse of `packPayload` (format 2 cursors are plain JSON); unverified, so the result is still to be checked. */
function unpackPayload(bytes: Uint8Array): unknown {
  if (bytes[0] !== PACKED) return JSON.parse(new TextDecoder().decode(bytes));
  let size = 0;
  let i = 1;
  for (let scale = 1; ; scale *= 0x80) {
    const b = bytes[i++];
    if (b === undefined || scale > 0x80 ** 3) throw new Error("truncated");
    size += (b & 0x7f) * scale;
    if (b < 0x80) break;
  }
  const rest = JSON.parse(new TextDecoder().decode(bytes.subarray(i, i + size))) as Record<string, unknown>;
  return { ...rest, p: toBase64Url(bytes.subarray(i + size)) };
}

const invalid = (detail: string) => new WalkError("invalid-cursor", `${detail} Restart from the first page.`);

const NOT_UNDERSTOOD = "The cursor is not in a format this version understands.";

/** What a cursor that did not verify is told, before "Restart from the first page." */
const tokenFailures: Record<TokenFailure, string> = {
  malformed: "The cursor is malformed.",
  "unknown-key": "The cursor was signed with a key this deployment no longer accepts.",
  modified: "The cursor was modified or is corrupt.",
  undecodable: NOT_UNDERSTOOD,
};

/** Verifies and decodes a cursor. Any modification is a 400, never a wrong page. */
export async function verifyCursor(
  token: string,
  keys: SigningKey[],
  maxAgeSeconds: number,
  now: number,
): Promise<CursorPayload> {
  const verified = await verifyToken(token, keys);
  if (!verified.ok) throw invalid(tokenFailures[verified.failure]);
  let payload: CursorPayload;
  try {
    payload = CursorPayloadSchema.parse(unpackPayload(verified.payload));
  } catch {
    throw invalid(NOT_UNDERSTOOD);
  }
  if ((now - payload.s) / 1000 > maxAgeSeconds) {
    throw new WalkError(
      "cursor-expired",
      `The cursor is older than its ${Math.round(maxAgeSeconds / 3600)} h lifetime. Restart from the first page without a cursor.`,
    );
  }
  return payload;
}

/**
 * A listing cursor reduced to what its entity tag needs, WITHOUT verifying it (the tag only describes a page already
 * served): `content` is its key id and payload without the snapshot time `s`, `snapshot` is `s`. Null when the token
 * does not read as a cursor.
 * @example peekCursor(page.next_cursor) // { content: 'k1.{"r":"inkit.runs",…}', snapshot: 1733000000000 }
 */
export function peekCursor(token: string): { content: string; snapshot: number } | null {
  const read = readTokenUnverified(token);
  if (!read) return null;
  try {
    const { s, ...rest } = unpackPayload(read.payload) as { s?: unknown };
    return typeof s === "number" ? { content: `${read.kid}.${JSON.stringify(rest)}`, snapshot: s } : null;
  } catch {
    return null;
  }
}

type LaneTuple = z.infer<typeof laneTuple>;

/** A lane's place as a format-2 cursor stored it (the walk's keyset written once, not per lane). */
export function laneFromTuple(t: LaneTuple, walkKey: Keyset | null): LaneState {
  const key = t.length === 8 ? t[7] : walkKey;
  return { at: t[0], span: t[1], total: t[2], cap: t[3], head: t[4], version: t[5], done: t[6] === 1, key };
}
