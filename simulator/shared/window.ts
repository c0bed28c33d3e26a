/**
 * The items at [start, end) of a list sorted by `compare`, given the list already sorted by its sort key alone
 * (`sorted`: items with an equal key side by side, in any order among themselves). Only the tie groups that reach
 * into the window are sorted, so a page costs its own groups rather than a sort of the whole list; the answer is
 * the same as `[...sorted].sort(compare).slice(start, end)` whenever `compare` orders by that key first.
 */
export function windowOf<T>(
  sorted: readonly T[],
  start: number,
  end: number,
  sameKey: (a: T, b: T) => boolean,
  compare: (a: T, b: T) => number,
): T[] {
  const last = Math.min(end, sorted.length) - 1;
  const first = sorted[start];
  const final = sorted[last];
  if (first === undefined || final === undefined || start > last) return [];
  let from = start;
  while (from > 0 && sameKey(sorted[from - 1] as T, first)) from -= 1;
  let to = last + 1;
  while (to < sorted.length && sameKey(sorted[to] as T, final)) to += 1;
  return sorted
    .slice(from, to)
    .sort(compare)
    .slice(start - from, last + 1 - from);
}
