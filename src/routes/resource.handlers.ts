// What the handlers of the resources an API key keeps in D1 share: finding the caller's row (or a 404), writing it
// under `If-Match`, and serving a page of a table through the walk engine.
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env";
import { tenantOf } from "../http/auth";
import { listResponse } from "../http/list-response";
import { serveListing } from "../http/listing";
import { type Guarded, guardedWrite } from "../http/preconditions";
import type { Filters } from "../paging/listing";
import type { Keyed } from "../paging/order";
import { ProblemError } from "../shared/problem";
import { type D1ListingQuery, d1Listing } from "../storage/d1-listing";
import type { ListedTable } from "../storage/listings";

/** One kind of resource a tenant owns: how to find one of its rows by id, and what to call it in problems. */
interface Stored<Row> {
  /** Names it in a 404 and a 412, e.g. "webhook endpoint". */
  noun: string;
  find: (db: D1Database, tenant: string, id: string) => Promise<Row | null>;
}

/** The caller's resource `id`, or a 404 `not-found`. */
export async function owned<Row>(c: Context<AppEnv>, kind: Stored<Row>, id: string): Promise<Row> {
  const row = await kind.find(c.env.DB, tenantOf(c), id);
  if (!row) throw new ProblemError("not-found", { detail: `No ${kind.noun} ${id}.` });
  return row;
}

/** The caller's resource `id`, for a write under `If-Match`; `tag` is the strong ETag of a state. */
export const guarded = <Row>(
  c: Context<AppEnv>,
  kind: Stored<Row> & { tag: (row: Row) => Promise<string> },
  id: string,
): Guarded<Row> => ({ what: `${kind.noun} ${id}`, read: () => owned(c, kind, id), tag: kind.tag });

/**
 * A DELETE under `If-Match`, answered with a 204. `remove(row, guarded)` deletes the row (when `guarded`, only if it
 * is still exactly `row`) and says whether it did.
 */
export async function guardedDelete<Row>(
  c: Context<AppEnv>,
  kind: Stored<Row> & { tag: (row: Row) => Promise<string> },
  id: string,
  remove: (row: Row, guarded: boolean) => Promise<boolean>,
) {
  await guardedWrite(c, guarded(c, kind, id), async (row, isGuarded) => ((await remove(row, isGuarded)) ? row : null));
  return c.body(null, 204);
}

/** A list request's own part: the route's id (bound into its cursors), the filters it sent, `limit` and `cursor`. */
interface PageRequest {
  route: string;
  sent?: Filters;
  limit?: number;
  cursor?: string;
}

/**
 * One page of a D1 table, newest first, through the walk engine: `lane` names the table's single lane in the
 * cursors, `query` says which rows a walk with these filters reads.
 */
export async function d1Page<Row, T extends Keyed>(
  c: Context<AppEnv>,
  { route, sent = {}, limit, cursor }: PageRequest,
  lane: string,
  query: (filters: Filters) => D1ListingQuery<Row, T>,
) {
  const { body, headers } = await serveListing(c, {
    route,
    sent,
    defaults: {},
    limit,
    cursor,
    ...d1Listing(lane, query),
  });
  return listResponse(c, { body, headers });
}

/** One page of the caller's rows of `table` (all of them: the list takes no filters), shown by `map`. */
export function tenantPage<Row, T extends Keyed>(
  c: Context<AppEnv>,
  page: PageRequest,
  { lane, table, map }: { lane: string; table: ListedTable; map: (row: Row) => T },
) {
  return d1Page(c, page, lane, () => ({ db: c.env.DB, table, where: ["tenant = ?"], params: [tenantOf(c)], map }));
}
