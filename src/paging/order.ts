/**
 * tributary's own total order over listed items. Upstreams order items by creation time but leave the order
 * among tied timestamps unspecified (and it may change from one request to the next), so no position may
 * ever depend on the upstream's order within a tie.
 *
 * Every creation-ordered list is ordered by `created_at`, then `provider` ascending, then `id`, where
 * `created_at` and `id` follow the list's direction. On a provider route every item has the same provider,
 * so that is "created_at, then id"; on the merged feed (always newest first) it is "created_at descending,
 * provider ascending, id descending". Timestamps are fixed-width RFC 3339 and ids compare as plain strings
 * (code-unit order), so string comparison is the order.
 */

/** What the order needs of an item. */
export interface Keyed {
  id: string;
  created_at: string;
  provider?: string;
}

export type Direction = "desc" | "asc";

/** A position in the order: the item at it, or a bound that no item equals. */
export type Keyset = [createdAt: string, provider: string, id: string];

export const keysetOf = (item: Keyed): Keyset => [item.created_at, item.provider ?? "", item.id];

const cmp = (a: string, b: string) => (a === b ? 0 : a < b ? -1 : 1);

/** Negative when `a` comes before `b` in the list's order. */
function compareKeysets(a: Keyset, b: Keyset, dir: Direction): number {
  const sign = dir === "desc" ? -1 : 1;
  return sign * cmp(a[0], b[0]) || cmp(a[1], b[1]) || sign * cmp(a[2], b[2]);
}

export const compareItems = (a: Keyed, b: Keyed, dir: Direction) => compareKeysets(keysetOf(a), keysetOf(b), dir);

/** Whether creation time `a` comes strictly before creation time `b` in the list's direction. */
export const timeBefore = (a: string, b: string, dir: Direction) => (dir === "desc" ? a > b : a < b);

/** Whether `item` comes strictly after the position `key` (every item does when there is none). */
export const isAfter = (item: Keyed, key: Keyset | null, dir: Direction) =>
  key === null || compareKeysets(keysetOf(item), key, dir) > 0;

/** Whether `item` comes strictly before the position `key`. */
export const isBefore = (item: Keyed, key: Keyset, dir: Direction) => compareKeysets(keysetOf(item), key, dir) < 0;

/**
 * A position just before every item created at `createdAt` (newest first, as on the merged feed): items after
 * it are the ones created strictly before that time. This is how `created_before` becomes a start position.
 */
export const beforeTime = (createdAt: string): Keyset => [createdAt, "\uffff", ""];

/**
 * A lane's effective forward position: its key, or, while the walk is still ahead of the lane's head (its
 * newest item when the walk began), the head itself: items newer than the head arrived later and are not
 * part of the walk, so nothing before the head can be next.
 */
export function clampToHead(key: Keyset | null, head: string | null, dir: Direction): Keyset | null {
  if (head === null) return key;
  const bound: Keyset = [head, "", ""];
  return key === null || compareKeysets(key, bound, dir) < 0 ? bound : key;
}
