/**
 * A tiny seeded PRNG and the helpers the generators need. Everything the
 * simulators produce flows from these, so the same seed yields the same data
 * on every start.
 */

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32: 32-bit state, fast, good enough for test fixtures (not crypto). */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [min, max], both inclusive. */
export function int(rng: Rng, min: number, max: number): number {
  const span = max - min + 1;
  // One draw has 32 bits; wide ranges (microsecond timestamps) need 64 to reach every value.
  const unit = span > 2 ** 32 ? rng() + rng() / 2 ** 32 : rng();
  return min + Math.floor(unit * span);
}

/** True with probability p. */
export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

/** One element of a non-empty list. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error("pick() needs a non-empty list");
  return item;
}

/** One value chosen by relative weight, e.g. weighted(rng, [["a", 9], ["b", 1]]). */
export function weighted<T>(rng: Rng, entries: readonly (readonly [T, number])[]): T {
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = rng() * total;
  for (const [value, weight] of entries) {
    roll -= weight;
    if (roll < 0) return value;
  }
  const last = entries[entries.length - 1];
  if (last === undefined) throw new Error("weighted() needs at least one entry");
  return last[0];
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX = "0123456789abcdef";

function randomString(rng: Rng, alphabet: string, length: number): string {
  const codes = new Array<number>(length);
  for (let i = 0; i < length; i++) codes[i] = alphabet.charCodeAt(Math.floor(rng() * alphabet.length));
  return String.fromCharCode(...codes);
}

/**
 * A prefixed base62 id like Inkit's `rend_2DhtpDQ5ErIaNJQRtCpKfN`. Inkit's ids
 * look like a 128-bit number in base62 without leading zeros, so most are 22
 * characters but some are 21 or 20 (the seed examples show all three lengths).
 */
function base62Id(rng: Rng, prefix: string): string {
  const roll = rng();
  const length = roll < 0.88 ? 22 : roll < 0.99 ? 21 : 20;
  return `${prefix}_${randomString(rng, BASE62, length)}`;
}

/** Lowercase hex of the given length. */
export function hex(rng: Rng, length: number): string {
  return randomString(rng, HEX, length);
}

/** A version 4 (random) UUID. */
export function uuid(rng: Rng): string {
  const variant = pick(rng, ["8", "9", "a", "b"]);
  return `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-${variant}${hex(rng, 3)}-${hex(rng, 12)}`;
}

/** Mints prefixed base62 ids that are unique within one dataset. */
export class IdMinter {
  readonly #seen = new Set<string>();

  constructor(private readonly rng: Rng) {}

  next(prefix: string): string {
    for (;;) {
      const id = base62Id(this.rng, prefix);
      if (!this.#seen.has(id)) {
        this.#seen.add(id);
        return id;
      }
    }
  }
}

/** Draws integer instants in a range, never the same one twice. */
export class DistinctInstants {
  readonly #seen = new Set<number>();

  constructor(private readonly rng: Rng) {}

  /** Marks an instant as used, so no later draw returns it (planned ties keep exactly their members). */
  reserve(value: number): number {
    this.#seen.add(value);
    return value;
  }

  /** An unused integer in [min, max]. */
  draw(min: number, max: number): number {
    for (;;) {
      const value = int(this.rng, min, max);
      if (!this.#seen.has(value)) {
        this.#seen.add(value);
        return value;
      }
    }
  }
}

/** A hidden 32-bit key per item: it orders tied items and is never served. */
export function tieKey(rng: Rng): number {
  return Math.floor(rng() * 2 ** 32);
}

/** Shuffles a list in place (Fisher-Yates). */
export function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
