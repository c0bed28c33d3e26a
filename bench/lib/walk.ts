// Walking a list route through the worker a page at a time, with what each page cost upstream: the calls and the
// items the simulators counted for it (bench/sim-server.ts; items = the sum of items in the upstream response bodies,
// exact, not estimated) and its time from the request to the body's last byte. Parts 1 (bench/efficiency.ts) and 6
// (bench/feeds.ts) walk with it.
import { SIM_8X8_DEMO_KEY, SIM_INKIT_DEMO_TOKEN } from "../../simulator/credentials";
import { admin, simStats } from "./stack";

export type Sim = "inkit" | "8x8";

export interface Context {
  origin: string;
  apiKey: string;
  sims: Record<Sim, string>;
}

/** What the bench reads of a list page: items (with what names their source, for a merged feed) and the cursors. */
export interface PageBody {
  data: { id: string; provider?: string; created_at?: string; workflow?: { id: string } | null }[];
  page: { next_cursor: string | null; prev_cursor: string | null };
}

export interface PageRecord {
  body: PageBody;
  /** Upstream calls per listing (bench/sim-server.ts's keys: the Inkit path, or the 8x8 definition id). */
  calls: Record<string, number>;
  /** Items the upstream served per listing. */
  items: Record<string, number>;
  /** Request to the body's last byte, ms. */
  ms: number;
}

let counted = 0;

/** Every upstream call the bench's counters saw since resetCounts, to cross-check with the simulators' own. */
export const countedCalls = () => counted;

/** Takes (and clears) the simulators' counts per listing since the last take. */
async function takeCounts(ctx: Context): Promise<Pick<PageRecord, "calls" | "items">> {
  const [inkit, eightByEight] = await Promise.all([simStats(ctx.sims.inkit, true), simStats(ctx.sims["8x8"], true)]);
  for (const n of [...Object.values(inkit.calls), ...Object.values(eightByEight.calls)]) counted += n;
  return {
    calls: { ...inkit.calls, ...eightByEight.calls },
    items: { ...inkit.items, ...eightByEight.items },
  };
}

/** Starts a phase's count afresh: the bench's own and the simulators' /__admin/counters. */
export async function resetCounts(ctx: Context): Promise<void> {
  await takeCounts(ctx);
  counted = 0;
  await Promise.all([admin(ctx.sims.inkit, "DELETE", "/counters"), admin(ctx.sims["8x8"], "DELETE", "/counters")]);
}

/** The simulators' own request counters (GET /__admin/counters) for the emulated list routes, summed. */
export async function simulatorCounterTotal(ctx: Context): Promise<number> {
  const counters = await Promise.all(
    (["inkit", "8x8"] as const).map((sim) => admin<{ total: number }>(ctx.sims[sim], "GET", "/counters")),
  );
  return counters.reduce((a, c) => a + c.total, 0);
}

/**
 * One page. `cold` names a credential of its own (the simulators' `~tag` form, passed through), so the walk starts
 * from a cold listing cache that no other walk of the run has filled; pages of that walk share what they cached.
 */
export async function getPage(ctx: Context, url: string, noCache: boolean, cold?: string): Promise<PageRecord> {
  const headers: Record<string, string> = { Authorization: `Bearer ${ctx.apiKey}` };
  if (noCache) headers["Cache-Control"] = "no-cache";
  if (cold) {
    headers["X-Inkit-API-Token"] = `${SIM_INKIT_DEMO_TOKEN}~${cold}`;
    headers["X-8x8-Api-Key"] = `${SIM_8X8_DEMO_KEY}~${cold}`;
  }
  const started = performance.now();
  const res = await fetch(`${ctx.origin}${url}`, { headers, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`GET ${url} -> ${res.status} ${text.slice(0, 300)}`);
  return { body: JSON.parse(text) as PageBody, ...(await takeCounts(ctx)), ms };
}

interface WalkOptions {
  limit: (i: number) => number;
  noCache: boolean;
  /** The walk's own credential tag: a cold cache (see getPage). */
  cold?: string;
  maxPages: number;
}

/** A forward walk taken one page at a time, so several walks can be interleaved. */
export interface Walk {
  records: PageRecord[];
  /** The last page came back without a next cursor. */
  readonly complete: boolean;
  /** Complete, or at its page cap. */
  readonly done: boolean;
  /** Fetches the next page. */
  step(): Promise<PageRecord>;
}

/** A forward walk from `path` (a list URL, with its query) following `next_cursor`. */
export function openWalk(ctx: Context, path: string, opts: WalkOptions): Walk {
  const base = path.split("?")[0];
  const sep = path.includes("?") ? "&" : "?";
  const records: PageRecord[] = [];
  let cursor: string | null = null;
  let complete = false;
  return {
    records,
    get complete() {
      return complete;
    },
    get done() {
      return complete || records.length >= opts.maxPages;
    },
    async step() {
      const i = records.length;
      const n = opts.limit(i);
      const url = cursor ? `${base}?cursor=${encodeURIComponent(cursor)}&limit=${n}` : `${path}${sep}limit=${n}`;
      const record = await getPage(ctx, url, opts.noCache, opts.cold);
      records.push(record);
      cursor = record.body.page.next_cursor;
      complete = cursor === null;
      return record;
    },
  };
}

/** A whole forward walk; `between(i)` runs after page i, before page i+1 (admin requests are not upstream calls). */
export async function walkForward(
  ctx: Context,
  path: string,
  opts: WalkOptions & { between?: (i: number) => Promise<void> },
): Promise<{ records: PageRecord[]; complete: boolean; ms: number }> {
  await takeCounts(ctx);
  const walk = openWalk(ctx, path, opts);
  const started = performance.now();
  while (!walk.done) {
    await walk.step();
    if (!walk.done) await opts.between?.(walk.records.length - 1);
  }
  return { records: walk.records, complete: walk.complete, ms: performance.now() - started };
}

/** Back from `from` (a prev_cursor), following `prev_cursor` through the cache, up to `maxPages`. */
export async function walkBackward(ctx: Context, path: string, from: string, maxPages: number, cold?: string) {
  await takeCounts(ctx);
  const base = path.split("?")[0];
  const records: PageRecord[] = [];
  let cursor: string | null = from;
  const started = performance.now();
  while (cursor && records.length < maxPages) {
    const record = await getPage(ctx, `${base}?cursor=${encodeURIComponent(cursor)}`, false, cold);
    records.push(record);
    cursor = record.body.page.prev_cursor;
  }
  return { records, complete: cursor === null, ms: performance.now() - started };
}

export interface WalkResult<Mode extends string = string> {
  route: string;
  mode: Mode;
  feed: boolean;
  limits: string;
  pages: number;
  /** Whether the walk reached the last page (insert walks stop after a fixed number of pages). */
  complete: boolean;
  returned: number;
  duplicates: number;
  calls: number;
  callsPerPage: number;
  maxCallsPerPage: number;
  /** The most calls one source (lane) made for one page. */
  maxCallsPerSourcePerPage: number;
  /** Pages on which some source made a second call (or more). */
  pagesWithSecondCall: number;
  /** Mean number of sources called per page. */
  sourcesCalledPerPage: number;
  fetched: number;
  fetchedPerReturned: number;
  inserted: number;
  ms: number;
  perPageCalls: number[];
  /** Per page, the most calls one source made for it. */
  perPageMostBySource: number[];
}

export const round3 = (v: number) => Math.round(v * 1000) / 1000;
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
/** Upstream calls of one page, all listings together. */
export const callsOf = (r: Pick<PageRecord, "calls">) => sum(r.calls);
/** Items the upstream served for one page. */
const fetchedOf = (r: Pick<PageRecord, "items">) => sum(r.items);

export function summarize<Mode extends string>(
  route: { id: string; feed: boolean },
  mode: Mode,
  limits: string,
  records: PageRecord[],
  complete: boolean,
  inserted: number,
  ms: number,
): WalkResult<Mode> {
  const ids = records.flatMap((r) => r.body.data.map((d) => d.id));
  const perPageCalls = records.map(callsOf);
  const calls = perPageCalls.reduce((a, b) => a + b, 0);
  const fetched = records.reduce((a, r) => a + fetchedOf(r), 0);
  const pages = records.length;
  const perPageMostBySource = records.map((r) => Math.max(0, ...Object.values(r.calls)));
  return {
    route: route.id,
    mode,
    feed: route.feed,
    limits,
    pages,
    complete,
    returned: ids.length,
    duplicates: ids.length - new Set(ids).size,
    calls,
    callsPerPage: round3(calls / Math.max(1, pages)),
    maxCallsPerPage: Math.max(0, ...perPageCalls),
    maxCallsPerSourcePerPage: Math.max(0, ...perPageMostBySource),
    pagesWithSecondCall: perPageMostBySource.filter((n) => n > 1).length,
    sourcesCalledPerPage: round3(
      records.reduce((a, r) => a + Object.values(r.calls).filter((n) => n > 0).length, 0) / Math.max(1, pages),
    ),
    fetched,
    fetchedPerReturned: round3(fetched / Math.max(1, ids.length)),
    inserted,
    ms: Math.round(ms),
    perPageCalls,
    perPageMostBySource,
  };
}
