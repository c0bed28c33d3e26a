// 1. Upstream efficiency: full walks of every list route through the worker, counting what each page cost upstream.
// Calls and items are counted by the simulators (bench/sim-server.ts): calls per listing, and items = the sum of
// items in the upstream responses (exact, from the bodies served, not estimated). Each walk goes through the
// listing cache from a cold start (a credential of its own), so a cache hit counts 0 and pages share the blocks
// they read; the "uncached" walks send `Cache-Control: no-cache` and show what a page costs without the cache.
import { EIGHT_BY_EIGHT_DEFINITION_IDS, SIM_8X8_DEMO_KEY, SIM_INKIT_DEMO_TOKEN } from "../simulator/credentials";
import { admin, simStats } from "./lib/stack";

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;

type Sim = "inkit" | "8x8";

interface SourceSpec {
  /** How bench/sim-server.ts keys the listing: the Inkit path, or the 8x8 definition id. */
  key: string;
  sim: Sim;
  /** The body of POST /__admin/insert that adds items at this listing's head (plus `count`). */
  insert: Record<string, unknown>;
  /** As a `source` of GET /v1/runs. */
  feedSpec?: string;
}

export interface RouteSpec {
  id: string;
  path: string;
  feed: boolean;
  sources: SourceSpec[];
}

const sources = {
  inkitRuns: { key: "/v1/invoke", sim: "inkit", insert: { kind: "run" }, feedSpec: "inkit" },
  workflowBatches: { key: "/v1/invoke/batch", sim: "inkit", insert: { kind: "workflow_batch" } },
  documentBatches: { key: "/v1/batch", sim: "inkit", insert: { kind: "document_batch" } },
  orders: eightByEight(defs.orderNotifications),
  sms: eightByEight(defs.smsKeywordRouter),
  reminders: eightByEight(defs.appointmentReminders),
} satisfies Record<string, SourceSpec>;

function eightByEight(definitionId: string): SourceSpec {
  return { key: definitionId, sim: "8x8", insert: { definitionId }, feedSpec: `8x8:acme-ops/${definitionId}` };
}

const feed = (list: SourceSpec[]): RouteSpec => ({
  id: `feed of ${list.length}`,
  path: `/v1/runs?${list.map((s) => `source=${encodeURIComponent(s.feedSpec ?? "")}`).join("&")}`,
  feed: true,
  sources: list,
});

/** Every list route; merged feeds of 1, 2 and 4 sources. */
export const ROUTES: RouteSpec[] = [
  { id: "inkit runs", path: "/v1/inkit/runs", feed: false, sources: [sources.inkitRuns] },
  { id: "inkit workflow-batches", path: "/v1/inkit/workflow-batches", feed: false, sources: [sources.workflowBatches] },
  { id: "inkit batches", path: "/v1/inkit/batches", feed: false, sources: [sources.documentBatches] },
  {
    id: "8x8 runs",
    path: `/v1/8x8/accounts/acme-ops/definitions/${defs.orderNotifications}/runs`,
    feed: false,
    sources: [sources.orders],
  },
  feed([sources.sms]),
  feed([sources.inkitRuns, sources.orders]),
  feed([sources.inkitRuns, sources.orders, sources.sms, sources.reminders]),
];

export const CONSTANT_LIMIT = 50;
/** The limit of page i of a "varying" walk (cycled): small, large, misaligned, the maximum. */
export const VARYING_LIMITS = [7, 50, 1, 233, 19, 500, 64, 3, 128];
/** Head inserts before page i+1, per source k: a deterministic 0..limit burst. */
export const burst = (i: number, k: number, limit: number) => ((i + k) * 7919 + 13) % (limit + 1);
const MAX_PAGES = 400;
const INSERT_WALK_PAGES = 12;

export type Mode =
  | "constant"
  | "cached re-walk"
  | "varying"
  | "backward"
  | "head inserts"
  | "uncached"
  | "capped first page"
  | "capped first page, cap known";

/** The silent page-size cap the "capped first page" walks run against, and their limits. */
export const FIRST_PAGE_CAP = 20;
export const FIRST_PAGE_LIMITS = [50, 500];

export interface WalkResult {
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

export interface Context {
  origin: string;
  apiKey: string;
  sims: Record<Sim, string>;
}

interface PageBody {
  data: { id: string }[];
  page: { next_cursor: string | null; prev_cursor: string | null };
}

interface PageRecord {
  body: PageBody;
  calls: Record<string, number>;
  items: Record<string, number>;
}

/** Every upstream call the bench's counters saw in this phase, to cross-check with the simulators' own counters. */
export let countedCalls = 0;

async function takeCounts(ctx: Context) {
  const [inkit, eightByEight] = await Promise.all([simStats(ctx.sims.inkit, true), simStats(ctx.sims["8x8"], true)]);
  for (const n of [...Object.values(inkit.calls), ...Object.values(eightByEight.calls)]) countedCalls += n;
  return {
    calls: { ...inkit.calls, ...eightByEight.calls },
    items: { ...inkit.items, ...eightByEight.items },
  };
}

/**
 * One page. `cold` names a credential of its own (the simulators' `~tag` form, passed through), so the walk starts
 * from a cold listing cache that no other walk of the run has filled; pages of that walk share what they cached.
 */
async function getPage(ctx: Context, url: string, noCache: boolean, cold?: string): Promise<PageRecord> {
  const headers: Record<string, string> = { Authorization: `Bearer ${ctx.apiKey}` };
  if (noCache) headers["Cache-Control"] = "no-cache";
  if (cold) {
    headers["X-Inkit-API-Token"] = `${SIM_INKIT_DEMO_TOKEN}~${cold}`;
    headers["X-8x8-Api-Key"] = `${SIM_8X8_DEMO_KEY}~${cold}`;
  }
  const res = await fetch(`${ctx.origin}${url}`, { headers, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} -> ${res.status} ${text.slice(0, 300)}`);
  return { body: JSON.parse(text) as PageBody, ...(await takeCounts(ctx)) };
}

function summarize(
  route: RouteSpec,
  mode: Mode,
  limits: string,
  records: PageRecord[],
  complete: boolean,
  inserted: number,
  ms: number,
): WalkResult {
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const ids = records.flatMap((r) => r.body.data.map((d) => d.id));
  const perPageCalls = records.map((r) => sum(r.calls));
  const calls = perPageCalls.reduce((a, b) => a + b, 0);
  const fetched = records.reduce((a, r) => a + sum(r.items), 0);
  const pages = records.length;
  const perPageMostBySource = records.map((r) => Math.max(0, ...Object.values(r.calls)));
  const round = (v: number) => Math.round(v * 1000) / 1000;
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
    callsPerPage: round(calls / Math.max(1, pages)),
    maxCallsPerPage: Math.max(0, ...perPageCalls),
    maxCallsPerSourcePerPage: Math.max(0, ...perPageMostBySource),
    pagesWithSecondCall: perPageMostBySource.filter((n) => n > 1).length,
    sourcesCalledPerPage: round(
      records.reduce((a, r) => a + Object.values(r.calls).filter((n) => n > 0).length, 0) / Math.max(1, pages),
    ),
    fetched,
    fetchedPerReturned: round(fetched / Math.max(1, ids.length)),
    inserted,
    ms: Math.round(ms),
    perPageCalls,
    perPageMostBySource,
  };
}

interface ForwardOptions {
  limit: (i: number) => number;
  noCache: boolean;
  /** The walk's own credential tag: a cold cache (see getPage). */
  cold?: string;
  maxPages: number;
  /** Runs after page i, before page i+1 (not counted: admin requests are not upstream calls). */
  between?: (i: number) => Promise<void>;
}

async function walkForward(ctx: Context, route: RouteSpec, opts: ForwardOptions) {
  await takeCounts(ctx);
  const base = route.path.split("?")[0];
  const sep = route.path.includes("?") ? "&" : "?";
  const records: PageRecord[] = [];
  let cursor: string | null = null;
  const started = performance.now();
  for (let i = 0; i < opts.maxPages; i++) {
    const n = opts.limit(i);
    const url: string = cursor
      ? `${base}?cursor=${encodeURIComponent(cursor)}&limit=${n}`
      : `${route.path}${sep}limit=${n}`;
    const record = await getPage(ctx, url, opts.noCache, opts.cold);
    records.push(record);
    cursor = record.body.page.next_cursor;
    if (!cursor) break;
    if (i < opts.maxPages - 1) await opts.between?.(i);
  }
  return { records, complete: cursor === null, ms: performance.now() - started };
}

async function walkBackward(ctx: Context, route: RouteSpec, from: string, cold?: string) {
  await takeCounts(ctx);
  const base = route.path.split("?")[0];
  const records: PageRecord[] = [];
  let cursor: string | null = from;
  const started = performance.now();
  while (cursor && records.length < MAX_PAGES) {
    const record = await getPage(ctx, `${base}?cursor=${encodeURIComponent(cursor)}`, false, cold);
    records.push(record);
    cursor = record.body.page.prev_cursor;
  }
  return { records, complete: cursor === null, ms: performance.now() - started };
}

async function insertAtHeads(ctx: Context, route: RouteSpec, i: number, limit: number): Promise<number> {
  let inserted = 0;
  await Promise.all(
    route.sources.map(async (source, k) => {
      const count = burst(i, k, limit);
      if (count === 0) return;
      inserted += count;
      await admin(ctx.sims[source.sim], "POST", "/insert", { ...source.insert, count });
    }),
  );
  return inserted;
}

/** Runs every walk. Walks with head inserts run last: they grow the data the other walks read. */
export async function runEfficiency(ctx: Context, log: (line: string) => void): Promise<WalkResult[]> {
  const results: WalkResult[] = [];
  const record = (r: WalkResult) => {
    results.push(r);
    log(
      `  ${r.route.padEnd(24)} ${r.mode.padEnd(15)} ${String(r.pages).padStart(3)} pages  ${r.callsPerPage.toFixed(2)} calls/page  ${r.fetchedPerReturned.toFixed(2)} fetched/returned  ${r.ms} ms`,
    );
  };
  await takeCounts(ctx);
  countedCalls = 0;
  await Promise.all([admin(ctx.sims.inkit, "DELETE", "/counters"), admin(ctx.sims["8x8"], "DELETE", "/counters")]);

  for (const [r, route] of ROUTES.entries()) {
    const tag = (mode: string) => `${mode}-${r}`;
    const constant = await walkForward(ctx, route, {
      limit: () => CONSTANT_LIMIT,
      noCache: false,
      cold: tag("constant"),
      maxPages: MAX_PAGES,
    });
    record(summarize(route, "constant", String(CONSTANT_LIMIT), constant.records, constant.complete, 0, constant.ms));

    // The same walk again at once (list TTL 15 s): every page should come from the cache.
    const cached = await walkForward(ctx, route, {
      limit: () => CONSTANT_LIMIT,
      noCache: false,
      cold: tag("constant"),
      maxPages: MAX_PAGES,
    });
    record(summarize(route, "cached re-walk", String(CONSTANT_LIMIT), cached.records, cached.complete, 0, cached.ms));

    // Back from the last page, with the same credential (a cursor is bound to it): what going back over pages
    // just seen costs, the blocks they read still cached.
    const last = constant.records.at(-1)?.body.page.prev_cursor;
    if (last) {
      const backward = await walkBackward(ctx, route, last, tag("constant"));
      record(summarize(route, "backward", String(CONSTANT_LIMIT), backward.records, backward.complete, 0, backward.ms));
    }

    const varying = await walkForward(ctx, route, {
      limit: (i) => VARYING_LIMITS[i % VARYING_LIMITS.length] ?? 50,
      noCache: false,
      cold: tag("varying"),
      maxPages: MAX_PAGES,
    });
    record(summarize(route, "varying", VARYING_LIMITS.join("/"), varying.records, varying.complete, 0, varying.ms));

    const uncached = await walkForward(ctx, route, { limit: () => CONSTANT_LIMIT, noCache: true, maxPages: MAX_PAGES });
    record(summarize(route, "uncached", String(CONSTANT_LIMIT), uncached.records, uncached.complete, 0, uncached.ms));
  }

  for (const [r, route] of ROUTES.entries()) {
    let inserted = 0;
    const walk = await walkForward(ctx, route, {
      limit: () => CONSTANT_LIMIT,
      noCache: false,
      cold: `inserts-${r}`,
      maxPages: INSERT_WALK_PAGES,
      between: async (i) => {
        inserted += await insertAtHeads(ctx, route, i, CONSTANT_LIMIT);
      },
    });
    record(summarize(route, "head inserts", String(CONSTANT_LIMIT), walk.records, walk.complete, inserted, walk.ms));
  }

  // The first page of a walk against an Inkit that caps silently at 20: by a credential never seen before (the cap
  // unknown), then again by the same credential with `no-cache` (the listing cache bypassed, the cap remembered).
  const settings = await admin<{ page_size_cap: number | null }>(ctx.sims.inkit, "GET", "/settings");
  await admin(ctx.sims.inkit, "POST", "/settings", { page_size_cap: FIRST_PAGE_CAP });
  try {
    const route = ROUTES[0] as RouteSpec;
    for (const limit of FIRST_PAGE_LIMITS) {
      for (const mode of ["capped first page", "capped first page, cap known"] as const) {
        const first = await walkForward(ctx, route, {
          limit: () => limit,
          noCache: mode !== "capped first page",
          cold: `capped-${limit}`,
          maxPages: 1,
        });
        record(summarize(route, mode, String(limit), first.records, first.complete, 0, first.ms));
      }
    }
  } finally {
    await admin(ctx.sims.inkit, "POST", "/settings", { page_size_cap: settings.page_size_cap });
  }
  return results;
}

/** The simulators' own request counters (GET /__admin/counters) for the emulated list routes, summed. */
export async function simulatorCounterTotal(ctx: Context): Promise<number> {
  const counters = await Promise.all(
    (["inkit", "8x8"] as const).map((sim) => admin<{ total: number }>(ctx.sims[sim], "GET", "/counters")),
  );
  return counters.reduce((a, c) => a + c.total, 0);
}
