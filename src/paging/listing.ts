import { staged } from "../observability/stages";
import { sha256Hex } from "../shared/digest";
import type { SigningKey } from "../shared/signed-token";
import type { Credential } from "../upstream/credential";
import { type CursorPayload, type IssuedPayload, laneFromTuple, signCursor, verifyCursor } from "./cursor";
import { WalkError, type WalkMismatch } from "./errors";
import { decodeLanes, encodeLanes, walkHead } from "./lane-codec";
import { type Lane, type LaneReading, readLanes } from "./lanes";
import { type Direction, type Keyed, type Keyset, keysetOf } from "./order";
import { freshLane, type LaneState, nextPositions } from "./positions";

/** Filters of a walk, path parameters included, as canonical strings. */
export type Filters = Record<string, string | string[]>;

export interface ListRequest<T extends Keyed> {
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
  /**
   * The walk's lanes for its filters, in a fixed order. It may resolve what the lanes read with first (a connection's
   * credential), since a later page's filters come from its cursor.
   */
  lanes: (filters: Filters) => Lane<T>[] | Promise<Lane<T>[]>;
  /**
   * The walk's direction in tributary's order, or null for a sort by a field that changes while one walks
   * (then the upstream's order is served and positions are plain offsets).
   */
  order: (filters: Filters) => Direction | null;
  /** Where a first page starts, when the filters skip the newest items (e.g. `created_before`). */
  start?: (filters: Filters) => Keyset | null;
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

const DEFAULT_LIMIT = 50;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Binds a cursor to the API key and the upstream credential in use, without storing either. */
async function bindingDigest(tenant: string, credential: Credential): Promise<string> {
  // A connection's walks are bound to its id (they outlive a rotation); a caller's own credential to its hash.
  const cred = credential.connection
    ? credential.connection.id
    : credential.passThrough
      ? await sha256Hex(credential.value)
      : "configured";
  return (await sha256Hex(`${tenant}|${cred}`)).slice(0, 22);
}

/** Checks that a cursor belongs to this route, caller and filters; returns the walk's filters. */
function checkCursor<T extends Keyed>(payload: CursorPayload, req: ListRequest<T>, binding: string): Filters {
  if (payload.r !== req.route) {
    throw new WalkError(
      "invalid-cursor",
      `This cursor was issued by another listing (${payload.r}); use it only there, or restart without a cursor.`,
    );
  }
  if (payload.b !== binding) {
    throw new WalkError(
      "invalid-cursor",
      "This cursor was issued to another caller or for another upstream credential. Restart without a cursor.",
    );
  }
  const errors: WalkMismatch[] = Object.entries(req.sent)
    .filter(([name, value]) => !same(payload.f[name], value))
    .map(([name]) => ({ name, message: "Differs from the value this cursor's walk was started with." }));
  if (errors.length > 0) {
    throw new WalkError(
      "invalid-cursor",
      `The cursor belongs to a walk with other parameters (${errors.map((e) => e.name).join(", ")}). Omit them or send the same values, or restart without a cursor.`,
      errors,
    );
  }
  return payload.f;
}

/** A walk opened from a request: its filters, lanes and where each lane stands. */
interface Walk<T extends Keyed> {
  keys: SigningKey[];
  payload: CursorPayload | null;
  base: Omit<IssuedPayload, "d" | "k" | "p" | "h">;
  lanes: Lane<T>[];
  states: (LaneState | null)[];
  limit: number;
  dir: Direction | null;
  backward: boolean;
}

/** What a page turned out to be, before signing. */
export interface Page<T> {
  items: T[];
  next: { key: Keyset | null; lanes: (LaneState | null)[] } | null;
  prev: { key: Keyset | null; lanes: (LaneState | null)[] } | null;
  totals: (number | null)[];
  errors: LaneError[];
}

/** Lanes as a cursor carries them: packed, with the walk's newest head beside them. */
function packLanes(states: (LaneState | null)[], key: Keyset | null) {
  const h = walkHead(states);
  return { p: encodeLanes(states, key, h), h };
}

/** A cursor's lanes, whichever format signed it. */
function lanesOf(payload: CursorPayload): (LaneState | null)[] {
  if (payload.v === 2) return payload.p.map((t) => (t ? laneFromTuple(t, payload.k) : null));
  try {
    return decodeLanes(payload.p, payload.k, payload.h);
  } catch {
    throw new WalkError("invalid-cursor", "The cursor is corrupt. Restart without a cursor.");
  }
}

/** What a walk needs of the request it serves, as plain values (the HTTP edge builds it: http/listing.ts). */
export interface WalkContext {
  /** Cursor keys: the first signs, all verify. */
  keys: SigningKey[];
  cursorTtlSeconds: number;
  /** The caller's API key id: cursors are bound to it. */
  tenant: string;
  /** The listing cache's view of this request. */
  cache: {
    /** Whether reads go through a shared cache (then they are aligned, so walks share answers). */
    shared: boolean;
    /** When the oldest answer this request used was fetched, if any: a first page's snapshot time. */
    fetchedAt(): number | null;
  };
  now: number;
  failures: LaneFailures;
  /** Upstream calls one request may make (the subrequest limit); unbounded when absent. */
  callRoom?: number;
}

async function openWalk<T extends Keyed>(ctx: WalkContext, req: ListRequest<T>): Promise<Walk<T>> {
  const { keys } = ctx;
  const binding = await bindingDigest(ctx.tenant, req.credential);
  const payload = req.cursor
    ? await staged("cursor", () => verifyCursor(req.cursor as string, keys, ctx.cursorTtlSeconds, ctx.now))
    : null;
  const filters = payload ? checkCursor(payload, req, binding) : { ...req.defaults, ...req.sent };
  const limit = req.limit ?? payload?.l ?? DEFAULT_LIMIT;
  const lanes = await req.lanes(filters);
  const first = freshLane(req.start?.(filters) ?? null);
  const states = payload ? lanesOf(payload) : lanes.map(() => ({ ...first }));
  if (states.length !== lanes.length)
    throw new WalkError("invalid-cursor", "The cursor does not fit this listing. Restart without a cursor.");
  return {
    keys,
    payload,
    base: { v: 3, r: req.route, b: binding, f: filters, l: limit, s: payload?.s ?? 0 },
    lanes,
    states,
    limit,
    dir: req.order(filters),
    backward: payload?.d === "p",
  };
}

/** One page request of a creation-ordered walk, in plain values. */
interface PageRequest<T extends Keyed> {
  lanes: Lane<T>[];
  states: (LaneState | null)[];
  limit: number;
  dir: Direction;
  backward: boolean;
  /** The position the request's cursor carried; null on a walk's first page. */
  from: { key: Keyset | null } | null;
  partial: boolean;
  /** How the lanes read (aligned blocks when a listing cache is shared); aligned by default. */
  reading?: LaneReading;
  /** How a lane's upstream failure is told from a bug; by default every failure fails the page. */
  failures?: LaneFailures;
}

/** How a walk tells a lane's upstream failure (which a partial feed serves around) from a bug. */
export interface LaneFailures {
  /** The failure as `page.errors` reports it; null when it is not an upstream failure (the page fails with it). */
  describe(error: unknown): Omit<LaneError, "source"> | null;
  /** Names the lane in the error a feed page fails with, so the caller learns which source failed. */
  blame(error: unknown, source: string): void;
}

const NO_TOLERANCE: LaneFailures = { describe: () => null, blame: () => {} };

/** Reads a creation-ordered page: every lane until the page is certain, then the page in tributary's order. */
export async function readPage<T extends Keyed>(req: PageRequest<T>): Promise<Page<T>> {
  const { lanes, states, limit, dir, backward, from, partial, reading, failures = NO_TOLERANCE } = req;
  const several = lanes.length > 1;
  const tolerate = (i: number, err: unknown) => {
    if (failures.describe(err) === null) return false;
    if (partial && several) return true;
    if (several) failures.blame(err, lanes[i]?.name ?? "");
    return false;
  };
  const { results, decision } = await readLanes(lanes, states, limit, dir, backward, tolerate, reading);
  const items = decision.items.map((x) => x.item);
  const firstKey = items[0] ? keysetOf(items[0]) : null;
  const lastKey = items.at(-1) ? keysetOf(items.at(-1) as T) : null;
  const at = (key: Keyset | null, forwardNext: boolean) => nextPositions(results, states, lanes, key, dir, forwardNext);
  const errors = results.flatMap((r, i): LaneError[] => {
    const failure = r.kind === "failed" ? failures.describe(r.error) : null;
    return failure ? [{ source: lanes[i]?.name ?? "", ...failure }] : [];
  });
  const totals = results.map((r, i) => (lanes[i]?.empty ? 0 : r.kind === "read" ? r.read.total : null));
  if (backward) {
    return {
      items,
      next: { key: lastKey ?? from?.key ?? null, lanes: at(lastKey ?? from?.key ?? null, false) },
      prev: decision.more ? { key: firstKey, lanes: at(firstKey, false) } : null,
      totals,
      errors,
    };
  }
  const nextLanes = at(lastKey, true);
  return {
    items,
    next: decision.more ? { key: lastKey, lanes: nextLanes } : null,
    prev: from ? { key: firstKey ?? from.key, lanes: at(firstKey ?? from.key, false) } : null,
    totals,
    errors,
  };
}

/** Reads a page in the upstream's own order (sorts by fields that change): positions are plain offsets. */
async function readUnordered<T extends Keyed>(walk: Walk<T>): Promise<Page<T>> {
  const { lanes, states, limit, backward, payload } = walk;
  const lane = lanes[0] as Lane<T>;
  const state = states[0] ?? freshLane();
  const source = lane.open(null, null);
  const from = backward ? Math.max(0, state.at - limit) : state.at;
  const read = await source.read(from, backward ? state.at - from : limit, state.cap);
  const place = (at: number): LaneState => ({ ...freshLane(), at, total: read.total, cap: read.cap });
  const end = from + read.items.length;
  return {
    items: read.items,
    next: backward || read.hasMore ? { key: null, lanes: [place(end)] } : null,
    prev: (backward ? from > 0 : payload !== null) ? { key: null, lanes: [place(from)] } : null,
    totals: [read.total],
    errors: [],
  };
}

/**
 * Serves one page of a listing of one or more lanes (a merged feed): open the walk, read the lanes, assemble
 * the page in tributary's order, sign the next and previous cursors.
 */
export async function readListing<T extends Keyed>(ctx: WalkContext, req: ListRequest<T>) {
  const walk = await openWalk(ctx, req);
  const page =
    walk.dir === null
      ? await readUnordered(walk)
      : await readPage({
          ...walk,
          dir: walk.dir,
          from: walk.payload && { key: walk.payload.k },
          partial: req.partial === true,
          reading: { aligned: ctx.cache.shared, room: ctx.callRoom },
          failures: ctx.failures,
        });
  const snapshot = walk.payload?.s ?? ctx.cache.fetchedAt() ?? ctx.now;
  const sign = (d: "n" | "p", at: NonNullable<Page<T>["next"]>) =>
    staged("cursor", () =>
      signCursor({ ...walk.base, s: snapshot, d, k: at.key, ...packLanes(at.lanes, at.key) }, walk.keys),
    );
  const hasNext = page.next?.lanes.some((s, i) => s !== null && !walk.lanes[i]?.empty) === true;
  const info: PageInfo = {
    limit: walk.limit,
    has_more: false,
    next_cursor: hasNext && page.next ? await sign("n", page.next) : null,
    prev_cursor: page.prev ? await sign("p", page.prev) : null,
    total: page.totals.every((t) => t !== null) ? page.totals.reduce<number>((sum, t) => sum + (t ?? 0), 0) : null,
    ...(page.errors.length > 0 ? { errors: page.errors } : {}),
  };
  info.has_more = info.next_cursor !== null;
  return { data: page.items, page: info };
}
