import type { StoredInstance } from "../data/eightbyeight";
import type { EightByEightFilters } from "./query";

/** Instances matching the filters, keeping the stored newest-first order. No version = every version. */
export function filterInstances(instances: readonly StoredInstance[], filters: EightByEightFilters): StoredInstance[] {
  const { version, status, fromMs, toMs } = filters;
  return instances.filter(
    ({ item, startedMs }) =>
      (version === undefined || item.version === version) &&
      (status === undefined || item.status === status) &&
      (fromMs === undefined || startedMs >= fromMs) &&
      (toMs === undefined || startedMs <= toMs),
  );
}

/**
 * Orders instances that share startedAt by `rank` (a hash of the hidden key and the request window), leaving every
 * tie group in the same offset span: as SQL `ORDER BY startedAt DESC LIMIT/OFFSET` on a non-unique column may.
 */
export function compareForWindow(rank: (tieKey: number) => number): (a: StoredInstance, b: StoredInstance) => number {
  return (a, b) => b.startedMs - a.startedMs || rank(a.tieKey) - rank(b.tieKey) || a.tieKey - b.tieKey;
}

/** Instances started in the same millisecond: one tie group. */
export function sameStart(a: StoredInstance, b: StoredInstance): boolean {
  return a.startedMs === b.startedMs;
}
