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
 * Reorders instances that share startedAt by `rank` (a hash of the hidden key and the request window), leaving every
 * tie group in the same offset span: as SQL `ORDER BY startedAt DESC LIMIT/OFFSET` on a non-unique column may.
 */
export function orderTiesForWindow(instances: StoredInstance[], rank: (tieKey: number) => number): StoredInstance[] {
  const ranks = new Map(instances.map((record) => [record, rank(record.tieKey)]));
  const rankOf = (record: StoredInstance) => ranks.get(record) ?? 0;
  return instances.sort((a, b) => b.startedMs - a.startedMs || rankOf(a) - rankOf(b) || a.tieKey - b.tieKey);
}
