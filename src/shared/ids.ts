const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastMs = 0;
let lastRandom: number[] = [];

/** 16 random Crockford base32 digits, incremented instead of redrawn within one millisecond, like a monotonic ULID. */
function randomPart(ms: number): number[] {
  if (ms === lastMs && lastRandom.length === 16) {
    const next = [...lastRandom];
    for (let i = next.length - 1; i >= 0; i--) {
      const digit = (next[i] ?? 0) + 1;
      if (digit < 32) {
        next[i] = digit;
        break;
      }
      next[i] = 0;
    }
    lastRandom = next;
    return next;
  }
  lastMs = ms;
  lastRandom = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b % 32);
  return lastRandom;
}

/**
 * A time-ordered id: `prefix_` + 10 base32 digits of the Unix milliseconds + 16 random ones (ULID layout), so ids
 * sort by creation time and ids minted in the same isolate sort in minting order.
 *
 * @example newId("evt") // "evt_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"
 */
export function newId(prefix: "evt" | "we" | "whs" | "att" | "sub" | "feed" | "conn", now = Date.now()): string {
  const ms = Math.max(now, lastMs);
  let time = "";
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${time}${randomPart(ms)
    .map((d) => CROCKFORD.charAt(d))
    .join("")}`;
}
