import type { Keyed } from "./order";
import type { Source, SourceRead } from "./source";

const MAX_PROBES = 40;

/**
 * Finds the first position at or after `from` whose item satisfies `past` (e.g. "comes after the anchor"),
 * in a list where `past` is false then true. This is how a walk resynchronises after the upstream
 * inserted items at its head: the anchor's neighbourhood moved down by the number of insertions.
 *
 * The first probe is the window the caller is about to read anyway, so an undisturbed walk costs no
 * extra call. After drift, `shiftOf(firstProbe)` (an estimate, e.g. the change in the upstream's total)
 * aims the next probe; otherwise the search gallops, then bisects. Returns the list's end if no item
 * satisfies `past`.
 */
export async function locate<T extends Keyed>(
  source: Source<T>,
  from: number,
  window: number,
  hint: number,
  past: (item: T) => boolean,
  shiftOf: (firstProbe: SourceRead<T>) => number | null = () => null,
): Promise<number> {
  let lo = from; // every position before lo is known not past
  let hi = Number.POSITIVE_INFINITY; // a position known past (or the end)
  let probe = from;
  let step = window;
  let shift: number | null = null;
  for (let i = 0; i < MAX_PROBES && lo < hi; i++) {
    const read = await source.read(probe, window, hint);
    if (i === 0) shift = shiftOf(read);
    const j = read.items.findIndex(past);
    if (j === 0) {
      hi = Math.min(hi, probe);
      if (probe <= lo) return probe;
    } else if (j > 0) {
      return probe + j; // the transition is inside this window
    } else {
      lo = Math.max(lo, probe + read.items.length);
      if (!read.hasMore) hi = Math.min(hi, probe + read.items.length);
    }
    if (lo >= hi) break;
    if (hi === Number.POSITIVE_INFINITY) {
      // Gallop forward: first to where the total's change says the anchor went (read with one item
      // of overlap, so landing exactly on it is verified), then in doubling steps.
      probe = i === 0 && shift !== null && shift > read.items.length ? from + shift - 1 : lo + step;
      step *= 2;
    } else {
      probe = Math.max(lo, Math.floor((lo + hi) / 2) - Math.floor(window / 2));
    }
  }
  return Math.min(lo, hi);
}
