import type { InkitBatch, InkitRun, Stored } from "../data/inkit-records";
import type { InkitFilters, InkitSort } from "./query";

/** Runs matching the filters (`search` over id, name, description and flow_name). */
export function filterRuns(records: readonly Stored<InkitRun>[], filters: InkitFilters): Stored<InkitRun>[] {
  const { search, destinationName, destinationStatus, dataIds } = filters;
  return records.filter(({ item }) => {
    if (dataIds !== undefined && !dataIds.has(item.id)) return false;
    if (destinationName !== undefined && !Object.hasOwn(item.destinations, destinationName)) return false;
    if (destinationStatus !== undefined && item.destination_status.toLowerCase() !== destinationStatus) return false;
    return (
      search === undefined ||
      [item.id, item.name, item.description, item.flow_name].some((text) => contains(text, search))
    );
  });
}

/** Batches matching the filters (`destination_status` matches any destination's status). */
export function filterBatches(records: readonly Stored<InkitBatch>[], filters: InkitFilters): Stored<InkitBatch>[] {
  const { search, destinationName, destinationStatus } = filters;
  return records.filter(({ item }) => {
    if (destinationName !== undefined && !Object.hasOwn(item.destinations, destinationName)) return false;
    if (
      destinationStatus !== undefined &&
      !Object.values(item.destinations).some((destination) => destination.status.toLowerCase() === destinationStatus)
    ) {
      return false;
    }
    return search === undefined || [item.id, item.name].some((text) => contains(text, search));
  });
}

function contains(text: string | null, lowercaseNeedle: string): boolean {
  return text?.toLowerCase().includes(lowercaseNeedle) ?? false;
}

interface Sortable {
  id: string;
  name: string | null;
  status: string;
}

/**
 * The key in the requested direction, then the tie rank ascending in both
 * directions (so a descending sort is not the reverse of the ascending one
 * among ties), then id should two ranks collide. By default the rank is the
 * hidden tieKey; see tieRanker for the "window" order. Strings compare by code
 * unit; a null name sorts after every string ascending, like PostgreSQL's
 * default NULLS LAST.
 */
export function sortRecords<T extends Sortable>(
  records: Stored<T>[],
  sort: InkitSort,
  rank: (tieKey: number) => number = (tieKey) => tieKey,
): Stored<T>[] {
  const direction = sort.descending ? -1 : 1;
  const ranks = new Map(records.map((record) => [record, rank(record.tieKey)]));
  const rankOf = (record: Stored<T>) => ranks.get(record) ?? 0;
  return records.sort(
    (a, b) => direction * compareKey(a, b, sort.key) || rankOf(a) - rankOf(b) || compareText(a.item.id, b.item.id),
  );
}

function compareKey<T extends Sortable>(a: Stored<T>, b: Stored<T>, key: InkitSort["key"]): number {
  switch (key) {
    case "created_at":
      return a.createdUs - b.createdUs;
    case "updated_at":
      return a.updatedUs - b.updatedUs;
    case "name":
      return compareNullable(a.item.name, b.item.name);
    case "status":
      return compareText(a.item.status, b.item.status);
    case "id":
      return 0;
  }
}

function compareNullable(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return compareText(a, b);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface InkitPage<T> {
  items: T[];
  metadata: {
    pagination: {
      current_page: number;
      next_page: number | null;
      page_count: number;
      page_size: number;
      prev_page: number | null;
      total_count: number;
    };
    sort: { key: string; order: 1 | -1 };
  };
}

/**
 * One page in Inkit's envelope. `prev_page` reproduces the docs' example, where
 * page 1 of 108 reports `prev_page: 108` (it wraps to the last page).
 */
export function paginate<T>(items: readonly T[], page: number, pageSize: number, sort: InkitSort): InkitPage<T> {
  const totalCount = items.length;
  const pageCount = Math.ceil(totalCount / pageSize);
  const start = (page - 1) * pageSize;
  return {
    items: items.slice(start, start + pageSize),
    metadata: {
      pagination: {
        current_page: page,
        next_page: page < pageCount ? page + 1 : null,
        page_count: pageCount,
        page_size: pageSize,
        prev_page: page > 1 ? page - 1 : pageCount > 1 ? pageCount : null,
        total_count: totalCount,
      },
      // Both examples list newest first with order 1, so 1 is read as descending.
      sort: { key: sort.key, order: sort.descending ? 1 : -1 },
    },
  };
}
