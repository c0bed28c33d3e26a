import type { Context } from "hono";
import { type AppEnv, readConfig } from "../env";
import { sha256Hex } from "../http/digest";
import { type FieldError, ProblemError } from "../http/problem";
import type { Credential } from "../providers/credentials";
import { type CursorPayload, cursorKeys, openCursor, sealCursor } from "./cursor";
import { type Lane, type LaneState, readBackward, readForward } from "./lanes";
import { anchorOf, compareNewestFirst, type Keyed } from "./order";

/** Every listed item can be walked: it has an id and a creation time. */
export type Walkable = Keyed;

/** Filters of a walk, path parameters included, as canonical strings. */
export type Filters = Record<string, string | string[]>;

export interface ListRequest<T extends Walkable> {
  /** Stable id of the route, bound into its cursors. */
  route: string;
  /** Path parameters and the filters sent with this request (absent ones omitted). */
  sent: Filters;
  /** Values for filters the first request left out. */
  defaults: Filters;
  limit: number | undefined;
  cursor: string | undefined;
  /** The upstream credential in use (a merged feed binds the configured ones). */
  credential: Credential;
  /** The walk's lanes for its filters, in a fixed order. */
  lanes: (filters: Filters) => Lane<T>[];
  /** Whether the walk is in creation order, so anchors can resynchronise it under inserts. */
  anchored: (filters: Filters) => boolean;
  /** With several lanes: serve the others when one fails, naming it in `page.errors`. */
  partial?: boolean;
}

export interface PageInfo {
  limit: number;
  has_more: boolean;
  next_cursor: string | null;
  prev_cursor: string | null;
  total: number | null;
  errors?: LaneError[];
}

export interface LaneError {
  source: string;
  status: number;
  type: string;
  detail: string;
}

export const DEFAULT_LIMIT = 50;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Binds a cursor to the API key and the upstream credential in use, without storing either. */
async function bindingDigest(c: Context<AppEnv>, credential: Credential): Promise<string> {
  const cred = credential.passThrough ? await sha256Hex(credential.value) : "configured";
  return (await sha256Hex(`${c.get("caller").keyId}|${cred}`)).slice(0, 22);
}

/** Checks that a cursor belongs to this route, caller and filters; returns the walk's filters. */
function checkCursor<T extends Walkable>(payload: CursorPayload, req: ListRequest<T>, binding: string): Filters {
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

type Tuple = NonNullable<CursorPayload["p"][number]>;
const toState = (t: Tuple): LaneState => ({
  pos: t[0],
  hint: t[1],
  total: t[2],
  anchor: t[3] !== null && t[4] !== null ? [t[3], t[4]] : null,
  pin: t[5],
});
const toTuple = (s: LaneState): Tuple => [s.pos, s.hint, s.total, s.anchor?.[0] ?? null, s.anchor?.[1] ?? null, s.pin];
const fresh: LaneState = { pos: 0, hint: 0, total: null, anchor: null, pin: null };

/** Merged order of a feed: newest first, ties by provider, then id (newest-first within a provider). */
function mergeOrder(a: Keyed, b: Keyed): number {
  if (a.created_at !== b.created_at) return compareNewestFirst(a, b);
  const pa = (a as { provider?: string }).provider ?? "";
  const pb = (b as { provider?: string }).provider ?? "";
  return pa === pb ? compareNewestFirst(a, b) : pa < pb ? -1 : 1;
}

/** The created_at just above `created_at`, so an inclusive upper bound keeps the item itself. */
function justAfter(createdAt: string): string {
  const micros = Number(createdAt.slice(20, 26)) + 1;
  if (micros < 1_000_000) return `${createdAt.slice(0, 20)}${String(micros).padStart(6, "0")}Z`;
  const next = new Date(Date.parse(`${createdAt.slice(0, 19)}Z`) + 1000).toISOString();
  return `${next.slice(0, 20)}000000Z`;
}

/**
 * Serves one page of a listing of one or more lanes (a merged feed): opens the cursor, resynchronises
 * each lane to its anchor, merges newest first, and seals the next and previous cursors.
 */
export async function readListing<T extends Walkable>(c: Context<AppEnv>, req: ListRequest<T>) {
  const config = readConfig(c.env);
  const keys = await cursorKeys(c.env.CURSOR_SECRET);
  const now = Date.now();
  const binding = await bindingDigest(c, req.credential);

  const payload = req.cursor ? await openCursor(req.cursor, keys, config.cursorTtlSeconds, now) : null;
  const filters = payload ? checkCursor(payload, req, binding) : { ...req.defaults, ...req.sent };
  const limit = req.limit ?? payload?.l ?? DEFAULT_LIMIT;
  const lanes = req.lanes(filters);
  const anchored = req.anchored(filters);
  const backward = payload?.d === "p";
  const states: (LaneState | null)[] = payload ? payload.p.map((t) => (t ? toState(t) : null)) : lanes.map(() => fresh);
  if (states.length !== lanes.length)
    throw new ProblemError("invalid-cursor", {
      detail: "The cursor does not fit this listing. Restart without a cursor.",
    });

  // Read every lane that may still have items, in parallel: at most one call per lane on an undisturbed page.
  const errors: LaneError[] = [];
  const reads = await Promise.all(
    lanes.map(async (lane, i) => {
      const state = states[i];
      if (!state || lane.empty) return null;
      try {
        return await (backward ? readBackward : readForward)(lane, state, limit, anchored);
      } catch (err) {
        if (!(err instanceof ProblemError) || !req.partial || lanes.length === 1) {
          if (err instanceof ProblemError && lanes.length > 1)
            err.init.extensions = { ...err.init.extensions, source: lane.name };
          throw err;
        }
        errors.push({ source: lane.name, status: err.status, type: err.type, detail: err.init.detail });
        return undefined; // failed: the lane keeps its place for the next page
      }
    }),
  );

  // Merge: forward pages take the first `limit` items, backward pages the last `limit`.
  const candidates = reads.flatMap((r, lane) => (r ? r.items.map((item, k) => ({ item, lane, k })) : []));
  if (lanes.length > 1) candidates.sort((a, b) => mergeOrder(a.item, b.item));
  const page = backward ? candidates.slice(Math.max(0, candidates.length - limit)) : candidates.slice(0, limit);
  const taken = lanes.map((_, lane) => page.filter((p) => p.lane === lane).map((p) => p.k));

  const next: (LaneState | null)[] = [];
  const prev: (LaneState | null)[] = [];
  for (const [i, lane] of lanes.entries()) {
    const state = states[i] ?? null;
    const read = reads[i];
    if (read === undefined) {
      next.push(state);
      prev.push(state);
      continue;
    }
    if (!state || !read) {
      next.push(null);
      prev.push(state && lane.empty ? state : null);
      continue;
    }
    const ks = taken[i] ?? [];
    const first = ks[0];
    const last = ks.at(-1);
    const hint = read.hint;
    const total = read.total;
    // On the first page, a lane that can filter by creation time pins the walk's head (see Lane.open).
    const head = read.items[0];
    const pin = state.pin ?? (lane.pinnable && !payload && head ? justAfter(head.created_at) : null);
    if (backward) {
      const start = first === undefined ? read.at : (read.positions[first] as number);
      next.push({
        pos: read.at,
        hint,
        total,
        pin,
        anchor: last !== undefined ? anchorOf(read.items[last] as T) : read.before ? anchorOf(read.before) : null,
      });
      prev.push({
        pos: start,
        hint,
        total,
        pin,
        anchor: first !== undefined ? anchorOf(read.items[first] as T) : state.anchor,
      });
    } else {
      const exhausted = !read.more && (last === undefined ? read.items.length === 0 : last === read.items.length - 1);
      const end = last === undefined ? read.at : (read.positions[last] as number) + 1;
      next.push(
        exhausted
          ? null
          : { pos: end, hint, total, pin, anchor: last !== undefined ? anchorOf(read.items[last] as T) : state.anchor },
      );
      const startItem = first !== undefined ? read.items[first] : read.items[0];
      prev.push({ pos: read.at, hint, total, pin, anchor: startItem ? anchorOf(startItem) : null });
    }
  }

  const items = page.map((p) => p.item);
  const hasNext = backward ? true : next.some((s, i) => s !== null && !lanes[i]?.empty);
  const hasPrev = backward ? reads.some((r) => r?.more) || candidates.length > limit : payload !== null;
  const snapshot = payload?.s ?? c.get("cache").fetchedAt() ?? now;
  const base = { v: 1 as const, r: req.route, b: binding, f: filters, l: limit, s: snapshot };
  const seal = (d: "n" | "p", lanesState: (LaneState | null)[]) =>
    sealCursor({ ...base, d, p: lanesState.map((s) => (s ? toTuple(s) : null)) }, keys);

  const totals = reads.map((r, i) => (lanes[i]?.empty ? 0 : (r?.total ?? null)));
  const info: PageInfo = {
    limit,
    has_more: hasNext && items.length > 0 ? true : hasNext && !backward,
    next_cursor: hasNext ? await seal("n", next) : null,
    prev_cursor: hasPrev ? await seal("p", prev) : null,
    total: totals.every((t) => t !== null) ? totals.reduce<number>((sum, t) => sum + (t ?? 0), 0) : null,
    ...(errors.length > 0 ? { errors } : {}),
  };
  info.has_more = info.next_cursor !== null;
  return { body: { data: items, page: info }, headers: linkHeader(c, info) };
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
