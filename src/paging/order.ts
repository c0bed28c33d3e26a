/** The identity and position in time of a listed item: what anchors and merges compare. */
export interface Keyed {
  id: string;
  created_at: string;
}

/** An anchor: the id and created_at of an item a cursor was positioned next to. */
export type Anchor = [id: string, createdAt: string];

export const anchorOf = (item: Keyed): Anchor => [item.id, item.created_at];

/**
 * Upstream order of creation-sorted listings: newest first, ties by id descending.
 * Negative when `a` comes before `b`. Timestamps are fixed-width RFC 3339, so strings compare as times.
 */
export function compareNewestFirst(a: Keyed, b: Keyed): number {
  if (a.created_at !== b.created_at) return a.created_at > b.created_at ? -1 : 1;
  return a.id === b.id ? 0 : a.id > b.id ? -1 : 1;
}

/** Whether `item` comes strictly after the anchor in newest-first order. */
export const isAfter = (item: Keyed, [id, created_at]: Anchor) => compareNewestFirst(item, { id, created_at }) > 0;

/** Whether `item` is the anchor or comes after it. */
export const isAtOrAfter = (item: Keyed, [id, created_at]: Anchor) => compareNewestFirst(item, { id, created_at }) >= 0;
