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
