import type { Filters } from "../paging/listing";
import type { OffsetReader } from "../paging/offset-reader";
import type { Keyed } from "../paging/order";
import { type ListedTable, newestFirst } from "./listings";

export interface D1ListingQuery<Row, T extends Keyed> {
  db: D1Database;
  /** A table with `id` and `created_at` columns. */
  table: ListedTable;
  /** SQL conditions joined with AND, with `?` placeholders. */
  where: string[];
  params: (string | number)[];
  map: (row: Row) => T;
}

/**
 * An OffsetReader over a D1 table in the order of every listing: newest first (`created_at DESC, id DESC`). `pin` (the
 * walk's head, see the listing engine) excludes rows created after the walk began, so they cannot shift offsets.
 */
function d1Source<Row, T extends Keyed>(query: D1ListingQuery<Row, T>, pin: string | null): OffsetReader<T> {
  const { db, table, map } = query;
  const where = pin === null ? query.where : [...query.where, "created_at <= ?"];
  const params = pin === null ? query.params : [...query.params, pin];
  return {
    async read(offset, count, cap) {
      const results = await newestFirst<Row>(db, table, where, params, count + 1, offset);
      return { items: results.slice(0, count).map(map), hasMore: results.length > count, total: null, cap };
    },
  };
}

/** D1 listings call no upstream: their cursors are bound to the caller alone. */
const NO_UPSTREAM = { value: "", passThrough: false };

/**
 * The source part of a list request over one D1 table, for `readListing`: a single pinnable lane in creation
 * order, so walks are anchored and rows added meanwhile neither shift nor repeat items.
 */
export function d1Listing<Row, T extends Keyed>(name: string, query: (filters: Filters) => D1ListingQuery<Row, T>) {
  return {
    credential: NO_UPSTREAM,
    lanes: (filters: Filters) => [
      { name, open: (pin: string | null) => d1Source(query(filters), pin), pinnable: true },
    ],
    order: () => "desc" as const,
  };
}
