/** Parsing and validation of Inkit's list query parameters. */

const INKIT_SORT_KEYS = ["created_at", "updated_at", "name", "status", "id"] as const;
export type InkitSortKey = (typeof INKIT_SORT_KEYS)[number];

export interface InkitSort {
  key: InkitSortKey;
  descending: boolean;
}

export interface InkitFilters {
  search?: string;
  destinationName?: string;
  destinationStatus?: string;
  /** Only honoured by `GET /v1/invoke`. */
  dataIds?: ReadonlySet<string>;
}

export interface InkitListQuery {
  page: number;
  pageSize: number;
  sort: InkitSort;
  filters: InkitFilters;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const DEFAULT_PAGE_SIZE = 25;

/** page, page_size, sort and the filters of a list route. Unknown parameters are ignored. */
export function parseListQuery(
  query: Record<string, string>,
  defaultSort: InkitSort,
  options: { acceptsDataId: boolean },
): Parsed<InkitListQuery> {
  const page = positiveInteger(query.page, "page", 1);
  if (!page.ok) return page;
  const pageSize = positiveInteger(query.page_size, "page_size", DEFAULT_PAGE_SIZE);
  if (!pageSize.ok) return pageSize;
  const rest = parseSortAndFilters(query, defaultSort, options);
  if (!rest.ok) return rest;
  return { ok: true, value: { page: page.value, pageSize: pageSize.value, ...rest.value } };
}

/** The sort and filters alone (the admin item dump reuses these). */
export function parseSortAndFilters(
  query: Record<string, string>,
  defaultSort: InkitSort,
  options: { acceptsDataId: boolean },
): Parsed<{ sort: InkitSort; filters: InkitFilters }> {
  const sort = parseSort(query.sort, defaultSort);
  if (!sort.ok) return sort;
  const filters: InkitFilters = {};
  if (nonEmpty(query.search)) filters.search = query.search.toLowerCase();
  if (nonEmpty(query.destination_name)) filters.destinationName = query.destination_name.toLowerCase();
  if (nonEmpty(query.destination_status)) filters.destinationStatus = query.destination_status.toLowerCase();
  if (options.acceptsDataId && nonEmpty(query.data_id)) {
    filters.dataIds = new Set(
      query.data_id
        .split(",")
        .map((id) => id.trim())
        .filter((id) => id !== ""),
    );
  }
  return { ok: true, value: { sort: sort.value, filters } };
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}

function positiveInteger(raw: string | undefined, name: string, fallback: number): Parsed<number> {
  if (raw === undefined) return { ok: true, value: fallback };
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < 1) {
    return { ok: false, message: `${name} must be a positive integer, got "${raw}".` };
  }
  return { ok: true, value };
}

function parseSort(raw: string | undefined, fallback: InkitSort): Parsed<InkitSort> {
  if (raw === undefined || raw === "") return { ok: true, value: fallback };
  const descending = raw.startsWith("-");
  const key = INKIT_SORT_KEYS.find((candidate) => candidate === (descending ? raw.slice(1) : raw));
  if (key === undefined) {
    return {
      ok: false,
      message: `sort must be one of ${INKIT_SORT_KEYS.join(", ")}, optionally prefixed with "-"; got "${raw}".`,
    };
  }
  return { ok: true, value: { key, descending } };
}
