import type { Context } from "hono";
import { type AppEnv, readConfig } from "../env";
import { sha256Hex } from "../http/digest";
import { type FieldError, ProblemError } from "../http/problem";
import type { Credential } from "../providers/credentials";
import { type CursorPayload, cursorKeys, openCursor, sealCursor } from "./cursor";
import type { Source } from "./source";

/** Every listed item can be walked: it has an id and a creation time. */
export interface Walkable {
  id: string;
  created_at: string;
}

/** Filters of a walk, path parameters included, as canonical strings. */
export type Filters = Record<string, string | string[]>;

export interface ListRequest<T> {
  /** Stable id of the route, bound into its cursors. */
  route: string;
  /** Path parameters and the filters sent with this request (absent ones omitted). */
  sent: Filters;
  /** Values for filters the first request left out. */
  defaults: Filters;
  limit: number | undefined;
  cursor: string | undefined;
  credential: Credential;
  source: (filters: Filters) => Source<T>;
}

export interface PageInfo {
  limit: number;
  has_more: boolean;
  next_cursor: string | null;
  prev_cursor: string | null;
  total: number | null;
}

export const DEFAULT_LIMIT = 50;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Binds a cursor to the API key and the upstream credential in use, without storing either. */
async function bindingDigest(c: Context<AppEnv>, credential: Credential): Promise<string> {
  const cred = credential.passThrough ? await sha256Hex(credential.value) : "configured";
  return (await sha256Hex(`${c.get("caller").keyId}|${cred}`)).slice(0, 22);
}

/** Checks that a cursor belongs to this route, caller and filters; returns the walk's filters. */
function checkCursor<T>(payload: CursorPayload, req: ListRequest<T>, binding: string): Filters {
  if (payload.r !== req.route) {
    throw new ProblemError("invalid-cursor", {
      detail: `This cursor was issued by another listing (${payload.r}); use it only there, or restart without a cursor.`,
    });
  }
  if (payload.b !== binding) {
    throw new ProblemError("invalid-cursor", {
      detail: "This cursor was issued to another caller or for another upstream credential. Restart without a cursor.",
    });
  }
  const errors: FieldError[] = Object.entries(req.sent)
    .filter(([name, value]) => !same(payload.f[name], value))
    .map(([name]) => ({ in: "cursor", name, message: "Differs from the value this cursor's walk was started with." }));
  if (errors.length > 0) {
    throw new ProblemError("invalid-cursor", {
      detail: `The cursor belongs to a walk with other parameters (${errors.map((e) => e.name).join(", ")}). Omit them or send the same values, or restart without a cursor.`,
      errors,
    });
  }
  return payload.f;
}

/**
 * Serves one page of a single-source listing: opens the cursor, reads the window from the source,
 * and seals the next and previous cursors.
 */
export async function readListing<T extends Walkable>(c: Context<AppEnv>, req: ListRequest<T>) {
  const config = readConfig(c.env);
  const keys = await cursorKeys(c.env.CURSOR_SECRET);
  const now = Date.now();
  const binding = await bindingDigest(c, req.credential);

  const payload = req.cursor ? await openCursor(req.cursor, keys, config.cursorTtlSeconds, now) : null;
  const filters = payload ? checkCursor(payload, req, binding) : { ...req.defaults, ...req.sent };
  const limit = req.limit ?? payload?.l ?? DEFAULT_LIMIT;

  const backward = payload?.d === "p";
  const at = payload?.o[0] ?? 0;
  const start = backward ? Math.max(0, at - limit) : at;
  const count = backward ? at - start : limit;
  const hint = payload?.h[0] ?? 0;
  const read =
    count > 0 ? await req.source(filters).read(start, count, hint) : { items: [], hasMore: true, total: null, hint };

  // The walk's snapshot time comes from when its first page was fetched upstream, not from the clock.
  const snapshot = payload?.s ?? c.get("cache").fetchedAt() ?? now;
  const base = { v: 1 as const, r: req.route, b: binding, f: filters, l: limit, h: [read.hint], s: snapshot };
  const last = read.items.at(-1);
  const first = read.items[0];
  const next = read.hasMore
    ? await sealCursor(
        { ...base, d: "n", o: [start + read.items.length], a: last ? [last.id, last.created_at] : null },
        keys,
      )
    : null;
  const prev =
    start > 0
      ? await sealCursor({ ...base, d: "p", o: [start], a: first ? [first.id, first.created_at] : null }, keys)
      : null;

  const page: PageInfo = { limit, has_more: next !== null, next_cursor: next, prev_cursor: prev, total: read.total };
  return { body: { data: read.items, page }, headers: linkHeader(c, page) };
}

/** RFC 8288 `Link` header with absolute next/prev URLs; the cursor carries filters and limit. */
export function linkHeader(c: Context<AppEnv>, page: PageInfo): Record<string, string> {
  const url = new URL(c.req.url);
  const link = (cursor: string, rel: string) =>
    `<${url.origin}${url.pathname}?cursor=${encodeURIComponent(cursor)}>; rel="${rel}"`;
  const links = [
    page.next_cursor && link(page.next_cursor, "next"),
    page.prev_cursor && link(page.prev_cursor, "prev"),
  ].filter(Boolean);
  return links.length > 0 ? { Link: links.join(", ") } : {};
}
