import type { OffsetReader, ReaderWindow } from "./offset-reader";

/** One upstream call of the page model. */
interface PageCall {
  page: number;
  pageSize: number;
}

/**
 * The fewest page-model calls that cover items [offset, offset + count), with page sizes up to `maxPageSize`.
 * One call whenever a single page size can cover the window (the smallest such size, to fetch least).
 * Otherwise consecutive pages of one size: the largest size that needs the fewest pages. The cap itself can need
 * one page more than a slightly smaller size, whose page boundaries fall better around the window.
 * @example planPages(30, 40, 500) // [{ page: 1, pageSize: 70 }]: one call covers offsets 30..69
 * @example planPages(499, 502, 100) // 6 pages of 99 (pages 6..11), where pages of 100 would take 7 (5..11)
 */
export function planPages(offset: number, count: number, maxPageSize: number): PageCall[] {
  const last = offset + count - 1;
  for (let size = count; size <= maxPageSize; size++) {
    if (Math.floor(offset / size) === Math.floor(last / size))
      return [{ page: Math.floor(offset / size) + 1, pageSize: size }];
  }
  const pagesOf = (size: number) => Math.floor(last / size) - Math.floor(offset / size) + 1;
  let size = Math.min(count, maxPageSize);
  let pages = pagesOf(size);
  // A size that needs p pages holds at least count / p items per page: below that no size can need fewer.
  for (let s = size - 1; pages > 2 && s >= Math.ceil(count / (pages - 1)); s--) {
    const p = pagesOf(s);
    if (p < pages) [size, pages] = [s, p];
  }
  const calls: PageCall[] = [];
  for (let page = Math.floor(offset / size) + 1; page <= Math.floor(last / size) + 1; page++)
    calls.push({ page, pageSize: size });
  return calls;
}

interface UpstreamPage<T> {
  items: T[];
  total: number;
  /** The page size the upstream says it used: a capping upstream numbers its pages by that size, not ours. */
  pageSize: number;
}

/** Caps learned by earlier walks over the same listing and credential (see cache/caps.ts). */
export interface RememberedCaps {
  recall(): Promise<number>;
  learn(cap: number): void;
}

/**
 * A page-model source (Inkit). The cap it reports is the page size learned from an upstream that serves fewer
 * items than asked (0 = none seen). The total makes a short page unambiguous: a cap, or the end.
 */
export function pageModelReader<T extends { created_at: string }>(
  fetchPage: (call: PageCall, fresh?: boolean, keep?: boolean) => Promise<UpstreamPage<T>>,
  maxPageSize: number,
  caps?: RememberedCaps,
): OffsetReader<T> {
  return {
    async read(
      offset,
      wanted,
      knownCap,
      { fresh = false, short = false, extra = 0, keep = true } = {},
    ): Promise<ReaderWindow<T>> {
      const items: T[] = [];
      const cuts: number[] = [];
      let cap = knownCap > 0 ? Math.min(knownCap, maxPageSize) : maxPageSize;
      const count =
        extra > 0 && planPages(offset, wanted + extra, cap).length <= planPages(offset, wanted, cap).length
          ? wanted + extra
          : wanted;
      let total = Number.POSITIVE_INFINITY;
      let moved = false;
      let largest = 0;
      let pos = offset;
      while (items.length < count && pos < total) {
        let progressed = false;
        const capBefore = cap;
        for (const call of planPages(pos, count - items.length, cap)) {
          if (pos >= total) break; // an earlier call of the plan reached the end
          const res = await fetchPage(call, fresh, keep);
          moved ||= Number.isFinite(total) && res.total !== total;
          total = res.total;
          largest = Math.max(largest, res.items.length);
          // Place the served items where the upstream put them: by the page size it reports having used.
          const size = Math.min(call.pageSize, Math.max(1, res.pageSize));
          const start = (call.page - 1) * size;
          const taken = pos >= start ? res.items.slice(pos - start, pos - start + count - items.length) : [];
          if (items.length > 0 && taken.length > 0) cuts.push(items.length);
          items.push(...taken);
          pos += taken.length;
          progressed ||= taken.length > 0;
          if (res.items.length < call.pageSize && start + res.items.length < total) {
            // Served fewer than asked before the end: the upstream caps its page size. Replan with the cap.
            cap = Math.max(1, Math.min(size, res.items.length));
            break;
          }
        }
        if ((!progressed && cap === capBefore) || (short && cap !== capBefore && items.length > 0)) break;
      }
      const known = Number.isFinite(total) ? total : null;
      const more = known !== null && pos < known;
      let learned = cap < maxPageSize ? cap : 0;
      if (caps && learned > 0 && learned !== knownCap) caps.learn(learned);
      else if (caps && learned === 0) {
        // Nothing capped this read: a cap another walk learned aligns the next ones, unless this read was served
        // more than it at once (the upstream raised its cap).
        const remembered = await caps.recall();
        if (remembered > 0 && largest > remembered) caps.learn(0);
        else learned = Math.min(remembered, maxPageSize);
      }
      return { items, hasMore: more, total: known, cap: learned < maxPageSize ? learned : 0, cuts, moved };
    },

    // Positions are the same in every response of one snapshot; only the order inside the group may differ.
    // So one page that spans the group's positions holds all of it.
    async ties(createdAt, from, to, knownCap) {
      const cap = knownCap > 0 ? Math.min(knownCap, maxPageSize) : maxPageSize;
      const calls = planPages(from, to - from, cap);
      if (calls.length !== 1) return null;
      const call = calls[0] as PageCall;
      const res = await fetchPage(call);
      const size = Math.max(1, Math.min(call.pageSize, res.pageSize));
      const start = (call.page - 1) * size;
      const slice = res.items.slice(from - start, to - start);
      // A page cut by a cap cannot hold the group; a whole page that does not hold it where it was seen moved.
      if (size !== call.pageSize) return null;
      return slice.length === to - from && slice.every((item) => item.created_at === createdAt) ? slice : "moved";
    },
  };
}

/**
 * An offset-model source (8x8): one call for the window's items. Without a total, a short answer is either the end
 * or a silent cap, and a cap may appear in the middle of a walk: so only an empty answer is the end. That costs one
 * call at a list's end (cached like any other) and loses nothing when the upstream starts capping. It learns no cap
 * (it reports 0): without a total, a short answer cannot tell one from the end. (It asked for one item more than the
 * window, and dropped it: only an empty answer ends a list, so that item told nothing, and it was parsed for nothing.
 * An empty window still asks for one, to tell whether the list goes on.)
 */
export function offsetModelReader<T>(
  fetchRange: (offset: number, limit: number, keep?: boolean) => Promise<T[]>,
  maxLimit: number,
  ties?: OffsetReader<T>["ties"],
): OffsetReader<T> {
  return {
    // A group read by time selects exactly the group, whatever the offsets (which head inserts during the read may
    // have shifted, repeating items in the stretch it was seen in); the lane checks that it holds all it saw.
    ties,
    async read(offset, wanted, _cap, { short = false, extra = 0, keep = true } = {}): Promise<ReaderWindow<T>> {
      const items: T[] = [];
      const cuts: number[] = [];
      let ended = false;
      // The items past the window ride along when they fit the calls the window takes anyway.
      const count = Math.ceil((wanted + extra) / maxLimit) <= Math.ceil(wanted / maxLimit) ? wanted + extra : wanted;
      const target = Math.max(count, 1);
      while (items.length < target) {
        const asked = Math.min(target - items.length, maxLimit);
        const got = await fetchRange(offset + items.length, asked, keep);
        if (items.length > 0 && got.length > 0) cuts.push(items.length);
        items.push(...got);
        if (got.length === 0) {
          ended = true;
          break;
        }
        if (short && got.length < asked) break;
      }
      return { items: items.slice(0, count), hasMore: !ended, total: null, cap: 0, cuts };
    },
  };
}
