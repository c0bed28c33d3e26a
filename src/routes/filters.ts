import type { Filters } from "../paging/listing";
import { toRfc3339 } from "../shared/time";

/** Canonical form of the filters a request sent, so equal meanings compare equal inside a cursor. */
export function sentFilters(query: Record<string, unknown>, params: Record<string, string> = {}): Filters {
  const out: Filters = { ...params };
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || name === "limit" || name === "cursor") continue;
    if (name === "data_id") out[name] = [...new Set(String(value).split(","))].sort().join(",");
    // Time bounds in the fixed-width form of every created_at, so string order is time order.
    else if (["started_from", "started_to", "created_after", "created_before"].includes(name)) {
      out[name] = toRfc3339(String(value));
    } else out[name] = String(value);
  }
  return out;
}
