import type { InkitBatch, InkitRun, Stored } from "../data/inkit-records";
import type { InkitFilters, InkitSort } from "./query";

/** Runs matching the filters (`search` over id, name, description and flow_name). */
export function filterRuns(records: readonly Stored<InkitRun>[], filters: InkitFilters): readonly Stored<InkitRun>[] {
  const { search, destinationName, destinationStatus, dataIds } = filters;
  if (unfiltered(filters)) return records;
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
export function filterBatches(
  records: readonly Stored<InkitBatch>[],
  filters: InkitFilters,
): readonly Stored<InkitBatch>[] {
  const { search, destinationName, destinationStatus } = filters;
  if (unfiltered(filters)) return records;
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

/** No filter given: the list as it is (filters keep the order of what they filter). */
function unfiltered({ search, destinationName, destinationStatus, dataIds }: InkitFilters): boolean {
  return (
    search === undefined && destinationName === undefined && destinationStatus === undefined && dataIds === undefined
  );
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
 * The order of a listing: the key in the requested direction, then the tie rank ascending in both directions (so a
 * descending sort is not the reverse of the ascending one among ties), then id should two ranks collide. By default
 * the rank is the hidden tieKey; see tieRanker for the "window" order. Strings compare by code unit; a null name
 * sorts after every string ascending, like PostgreSQL's default NULLS LAST.
 */
export function compareRecords<T extends Sortable>(
  sort: InkitSort,
  rank: (tieKey: number) => number = (tieKey) => tieKey,
): (a: Stored<T>, b: Stored<T>) => number {
  const direction = sort.descending ? -1 : 1;
  return (a, b) =>
    direction * compareKey(a, b, sort.key) || rank(a.tieKey) - rank(b.tieKey) || compareText(a.item.id, b.item.id);
}

/** Whether two records share the sort's key: the same tie group whatever the rank. */
export function sameKey<T extends Sortable>(sort: InkitSort): (a: Stored<T>, b: Stored<T>) => boolean {
  return (a, b) => compareKey(a, b, sort.key) === 0;
}

interface Views {
  revision: number;
  bySort: Map<string, readonly Stored<Sortable>[]>;
}

/** Sorted copies of each stored list, one per sort, kept until the data changes (see SimulatorState.revision). */
const views = new WeakMap<readonly Stored<Sortable>[], Views>();

/**
 * A stored list in the sort's order with ties in the hidden order, built once per sort and data revision: a list of
 * tens of thousands of items is not sorted again for every page. Filtering keeps this order, and the "window" tie
 * order reorders only the tie groups of the page served (simulator/shared/window.ts).
 */
export function sortedView<T extends Sortable>(
  records: readonly Stored<T>[],
  sort: InkitSort,
  revision: number,
): readonly Stored<T>[] {
  let cached = views.get(records);
  if (cached === undefined || cached.revision !== revision) {
    cached = { revision, bySort: new Map() };
    views.set(records, cached);
  }
  const key = `${sort.descending ? "-" : ""}${sort.key}`;
  let sorted = cached.bySort.get(key) as readonly Stored<T>[] | undefined;
  if (sorted === undefined) {
    sorted = [...records].sort(compareRecords<T>(sort));
    cached.bySort.set(key, sorted);
  }
  return sorted;
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
export function paginate<T>(
  items: readonly T[],
  page: number,
  pageSize: number,
  sort: InkitSort,
  /** The items at [start, end) in the order served. */
  window: (start: number, end: number) => T[],
): InkitPage<T> {
  const totalCount = items.length;
  const pageCount = Math.ceil(totalCount / pageSize);
  const start = (page - 1) * pageSize;
  return {
    items: window(start, start + pageSize),
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
