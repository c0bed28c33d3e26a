/**
 * The lanes of a cursor in a compact binary form, so a feed of 100 sources still fits a short URL. Per lane a flag
 * byte and only what the lane needs: offsets as varints, times as deltas in whole seconds (the lane's head from the
 * walk's newest head; its next item's time from the walk's position), the definition version for an 8x8 lane, the
 * upstream total for Inkit's. Times are rounded towards "newer", which keeps them what they are: a pin
 * that includes a few more late arrivals, and an upper bound on how new a lane's next item can be.
 */
import { fromBase64Url, toBase64Url } from "../shared/base64url";
import type { Keyset } from "./order";
import type { LaneState } from "./positions";

const PRESENT = 1;
const DONE = 2;
const TOTAL = 4;
const CAP = 8;
const VERSION = 16;
const NEXT = 32;
const HEAD = 64;
const OWN_KEY = 128;

/** Microseconds since the epoch of a fixed-width RFC 3339 time (`…:43.833982Z`). */
function micros(time: string): number {
  const ms = Date.parse(`${time.slice(0, 23)}Z`);
  if (Number.isNaN(ms)) throw new Error("not a timestamp");
  return ms * 1000 + Number(time.slice(23, 26).padEnd(3, "0"));
}

/** The fixed-width RFC 3339 form of microseconds since the epoch. */
function time(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(us % 1000).padStart(3, "0")}Z`;
}

const secondUp = (us: number) => Math.ceil(us / 1_000_000) * 1_000_000;

/** A time rounded up to the whole second: what pins and heads are kept as (see the module's note). */
export function upToSecond(t: string): string {
  const us = micros(t);
  return time(Math.ceil(us / 1_000_000) * 1_000_000);
}

class Writer {
  readonly bytes: number[] = [];
  uint(n: number) {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error("not a varint");
    let v = n;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }
  text(s: string) {
    const b = new TextEncoder().encode(s);
    this.uint(b.length);
    this.bytes.push(...b);
  }
  /** A version that is not a small integer: its length, tagged odd, then its text. */
  text2(s: string) {
    const b = new TextEncoder().encode(s);
    this.uint(b.length * 2 + 1);
    this.bytes.push(...b);
  }
}

class Reader {
  private i = 0;
  constructor(private readonly bytes: Uint8Array) {}
  get done() {
    return this.i >= this.bytes.length;
  }
  byte(): number {
    const b = this.bytes[this.i++];
    if (b === undefined) throw new Error("truncated");
    return b;
  }
  uint(): number {
    let n = 0;
    let scale = 1;
    for (let k = 0; k < 8; k++) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
    throw new Error("varint too long");
  }
  /** A version: an even varint is a small integer (doubled), an odd one the length of its text (see `text2`). */
  version(): string {
    const n = this.uint();
    if (n % 2 === 0) return String(n / 2);
    return this.raw((n - 1) / 2);
  }
  private raw(n: number): string {
    if (this.i + n > this.bytes.length) throw new Error("truncated");
    const s = new TextDecoder().decode(this.bytes.subarray(this.i, this.i + n));
    this.i += n;
    return s;
  }
  text(): string {
    const n = this.uint();
    if (this.i + n > this.bytes.length) throw new Error("truncated");
    const s = new TextDecoder().decode(this.bytes.subarray(this.i, this.i + n));
    this.i += n;
    return s;
  }
}

const sameKey = (a: Keyset | null, b: Keyset | null) =>
  a === b || (a !== null && b !== null && a.every((v, i) => v === b[i]));

/** The newest of the lanes' heads, rounded up to the second: the base of every lane's head. */
export function walkHead(states: (LaneState | null)[]): string | null {
  const heads = states.flatMap((s) => (s?.head ? [s.head] : []));
  return heads.length === 0 ? null : upToSecond(heads.reduce((a, b) => (b > a ? b : a)));
}

/** The lanes as a base64url string; `walkKey` and `head` (see `walkHead`) travel beside them in the cursor. */
export function encodeLanes(states: (LaneState | null)[], walkKey: Keyset | null, head: string | null): string {
  const w = new Writer();
  const headUs = head === null ? 0 : micros(head);
  const keyUs = walkKey === null ? null : secondUp(micros(walkKey[0]));
  for (const s of states) {
    if (s === null) {
      w.uint(0);
      continue;
    }
    // Both rounded up to the second, so a bound carried unchanged from page to page never drifts.
    const nextDelta = s.next !== undefined && keyUs !== null ? keyUs - secondUp(micros(s.next)) : -1;
    const flags =
      PRESENT |
      (s.done ? DONE : 0) |
      (s.total !== null ? TOTAL : 0) |
      (s.cap > 0 ? CAP : 0) |
      (s.version !== null ? VERSION : 0) |
      (nextDelta >= 0 ? NEXT : 0) |
      (s.head !== null && head !== null ? HEAD : 0) |
      (sameKey(s.key, walkKey) ? 0 : OWN_KEY);
    w.uint(flags);
    w.uint(s.at);
    // The span, doubled; odd when the key's rank in its group follows (see `LaneState.rank`).
    w.uint(s.span * 2 + (s.rank !== undefined ? 1 : 0));
    if (s.rank !== undefined) w.uint(s.rank);
    if (flags & TOTAL) w.uint(s.total as number);
    if (flags & CAP) w.uint(s.cap);
    // Versions are small integers (8x8 definition versions): one varint byte; anything else is kept as text.
    if (flags & VERSION)
      /^[1-9]\d{0,8}$/.test(s.version as string) ? w.uint(Number(s.version) * 2) : w.text2(s.version as string);
    // In whole seconds: the bound read back is the true one rounded up to its second (as new, or newer).
    if (flags & NEXT) w.uint(nextDelta / 1_000_000);
    if (flags & HEAD) w.uint(Math.max(0, Math.floor((headUs - micros(s.head as string)) / 1_000_000)));
    if (flags & OWN_KEY) {
      w.uint(s.key === null ? 0 : 1);
      if (s.key) for (const part of s.key) w.text(part);
    }
  }
  return toBase64Url(Uint8Array.from(w.bytes));
}

/** Inverse of `encodeLanes`; throws on anything it did not write. */
export function decodeLanes(text: string, walkKey: Keyset | null, head: string | null): (LaneState | null)[] {
  const r = new Reader(fromBase64Url(text));
  const headUs = head === null ? 0 : micros(head);
  const keyUs = walkKey === null ? null : secondUp(micros(walkKey[0]));
  const states: (LaneState | null)[] = [];
  while (!r.done) {
    const flags = r.uint();
    if (flags === 0) {
      states.push(null);
      continue;
    }
    if (!(flags & PRESENT) || flags > 255) throw new Error("bad lane");
    const at = r.uint();
    const spanAndRank = r.uint();
    const span = Math.floor(spanAndRank / 2);
    const rank = spanAndRank % 2 === 1 ? r.uint() : undefined;
    const total = flags & TOTAL ? r.uint() : null;
    const cap = flags & CAP ? r.uint() : 0;
    const version = flags & VERSION ? r.version() : null;
    const nextS = flags & NEXT ? r.uint() : null;
    const headS = flags & HEAD ? r.uint() : null;
    let key = walkKey;
    if (flags & OWN_KEY) key = r.uint() === 0 ? null : [r.text(), r.text(), r.text()];
    const state: LaneState = {
      key,
      at,
      span,
      total,
      cap,
      head: headS === null || head === null ? null : time(headUs - headS * 1_000_000),
      version,
      done: (flags & DONE) !== 0,
    };
    if (nextS !== null && keyUs !== null) state.next = time(keyUs - nextS * 1_000_000);
    if (rank !== undefined) state.rank = rank;
    states.push(state);
  }
  return states;
}
