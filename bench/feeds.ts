// 6. Saved feeds at scale (issue 19): feeds of 1, 4, 16, 64 and 100 sources walked in full, what each page cost
// upstream and how long it took, and no-cache provider walks at limits 7, 50 and 500.
//
// The simulators are reset first, so this part reads the same data whichever parts ran before it. The 8x8 simulator
// then gets the definitions of an organisation (POST /__admin/definitions with `instances`: instants tied across
// definitions and with Inkit runs); the sources are `inkit`, the 4 seeded definitions (the last never triggered), then
// the new ones, and a feed of n sources is the first n of them (so the 4-source feed is part 1's feed of 4). Each is
// saved once (POST /v1/feeds) and walked by id. The walks of the five feeds are interleaved page by page with a /healthz request
// in every round, so a slow spell of the machine hits them alike; latency ratios are taken only within this part.
import { EIGHT_BY_EIGHT_ACCOUNT_IDS } from "../simulator/credentials";
import { ROUTES } from "./efficiency";
import { admin } from "./lib/stack";
import { p50 } from "./lib/stats";
import {
  type Context,
  callsOf,
  countedCalls,
  getPage,
  openWalk,
  type PageRecord,
  resetCounts,
  round3,
  simulatorCounterTotal,
  summarize,
  type Walk,
  type WalkResult,
  walkForward,
} from "./lib/walk";

export const FEED_SIZES = [1, 4, 16, 64, 100];
export const FEED_LIMIT = 50;
/** Seeded instances per added 8x8 definition (as test/integration/runs.feed.scale.test.ts). */
export const INSTANCES_PER_DEFINITION = 12;
/** First pages of each feed asked again (no-cache), interleaved, for their p50. */
export const FIRST_PAGE_REPEATS = 7;
export const PROVIDER_LIMITS = [7, 50, 500];
/** The issue's goal: later pages of the 100-source feed within this × the 4-source feed's later pages (p50). */
export const LATER_PAGES_GOAL = 1.5;
const MAX_PAGES = 600;
/** The interleaved walks of one mode stop here (their rows then say "first n pages"). */
const WALKS_BUDGET_MS = 60_000;
const INKIT_RUNS = "/v1/invoke";
const INKIT_PAGE_SIZE_CAP = 100;

export type FeedMode = "no-cache" | "cache";

export interface FeedWalk {
  sources: number;
  mode: FeedMode;
  pages: number;
  complete: boolean;
  returned: number;
  duplicates: number;
  /** The longest next_cursor of the walk (base64url, so characters = bytes). */
  cursorBytes: number;
  firstPageCalls: number;
  /** Pages after the first: mean and most upstream calls. */
  laterCallsPerPage: number;
  laterMaxCalls: number;
  /** Pages after the first: mean distinct sources with an item on the page. */
  laterContributingPerPage: number;
  /**
   * Pages after the first: mean sources a page must read (as test/integration/runs.feed.scale.test.ts counts them): any with an
   * item from the page's first instant down to the instant of the item after it, ties at either end included.
   */
  laterNeededPerPage: number;
  /** Later pages that made more calls than the sources they must read, and the calls above that, summed. */
  laterPagesOverNeeded: number;
  laterCallsOverNeeded: number;
  /**
   * All later pages' calls minus the sources they must read, summed (pages reading fewer offset pages reading more):
   * the scale test allows one call per source on top, as an 8x8 list ends only with an empty answer.
   */
  laterCallsOverNeededNet: number;
  maxCallsPerSourcePerPage: number;
  fetched: number;
  fetchedPerReturned: number;
  laterP50Ms: number;
  ms: number;
  perPageCalls: number[];
  perPageNeeded: number[];
  perPageContributing: number[];
  perPageMs: number[];
}

export interface FirstPage {
  sources: number;
  samples: number;
  p50Ms: number;
  /** Upstream calls of each sample (no-cache: every source read once). */
  calls: number[];
}

export interface FeedRatio {
  sources: number;
  /** First page p50 over the 1-source feed's (no-cache). */
  firstOverOneSource: number;
  firstOverHealthz: number;
  /** Later pages' p50 over the 4-source feed's, per mode. */
  laterOverFourSources: Record<FeedMode, number>;
  laterOverHealthz: Record<FeedMode, number>;
}

export interface ProviderWalk extends WalkResult<"no-cache"> {
  /** The issue's budget of calls per page at this limit (null where it sets none). */
  budget: number | null;
  pagesOverBudget: number;
}

export interface FeedsResult {
  sources: { total: number; seededDefinitions: number; addedDefinitions: number; instancesPerAddedDefinition: number };
  healthz: { samples: number; p50Ms: number };
  firstPages: FirstPage[];
  walks: FeedWalk[];
  ratios: FeedRatio[];
  laterPagesGoal: { sources: number; against: number; ratio: number; goal: number; met: boolean };
  providerWalks: ProviderWalk[];
  crossCheck: { benchCounted: number; simulatorCounters: number; match: boolean };
  ms: number;
}

/** Which listing (sim-server key) an item of the merged feed came from. */
const sourceOf = (item: PageRecord["body"]["data"][number]) =>
  item.provider === "inkit" ? INKIT_RUNS : (item.workflow?.id ?? "?");

async function healthz(ctx: Context): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${ctx.origin}/healthz`, { signal: AbortSignal.timeout(30_000) });
  await res.text();
  if (!res.ok) throw new Error(`GET /healthz -> ${res.status}`);
  return performance.now() - started;
}

/** Steps every walk until all are done (or the budget is spent), one /healthz per round, rotating the order. */
async function interleave(ctx: Context, walks: Walk[], healthzMs: number[]): Promise<void> {
  const until = performance.now() + WALKS_BUDGET_MS;
  const steps: (() => Promise<unknown>)[] = [
    ...walks.map((w) => () => (w.done ? Promise.resolve() : w.step())),
    async () => healthzMs.push(await healthz(ctx)),
  ];
  for (let round = 0; walks.some((w) => !w.done) && performance.now() < until; round++) {
    for (let k = 0; k < steps.length; k++) await steps[(round + k) % steps.length]?.();
  }
}

function describeWalk(sources: number, mode: FeedMode, walk: Walk, ms: number): FeedWalk {
  const { records } = walk;
  const base = summarize(
    { id: `feed of ${sources}`, feed: true },
    mode,
    String(FEED_LIMIT),
    records,
    walk.complete,
    0,
    ms,
  );
  const items = records.flatMap((r) => r.body.data);
  const contributing = records.map((r) => new Set(r.body.data.map(sourceOf)).size);
  let at = 0;
  const needed = records.map((r) => {
    const start = at;
    at += r.body.data.length;
    const first = items[start]?.created_at ?? "";
    const after = items[at]?.created_at ?? "";
    return new Set(items.filter((t) => (t.created_at ?? "") <= first && (t.created_at ?? "") >= after).map(sourceOf))
      .size;
  });
  const calls = records.map(callsOf);
  const later = (xs: number[]) => xs.slice(1);
  const mean = (xs: number[]) => round3(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
  const over = later(calls).map((c, i) => c - (later(needed)[i] ?? 0));
  return {
    sources,
    mode,
    pages: base.pages,
    complete: base.complete,
    returned: base.returned,
    duplicates: base.duplicates,
    cursorBytes: Math.max(0, ...records.map((r) => r.body.page.next_cursor?.length ?? 0)),
    firstPageCalls: calls[0] ?? 0,
    laterCallsPerPage: mean(later(calls)),
    laterMaxCalls: Math.max(0, ...later(calls)),
    laterContributingPerPage: mean(later(contributing)),
    laterNeededPerPage: mean(later(needed)),
    laterPagesOverNeeded: over.filter((n) => n > 0).length,
    laterCallsOverNeeded: over.reduce((a, n) => a + Math.max(0, n), 0),
    laterCallsOverNeededNet: over.reduce((a, n) => a + n, 0),
    maxCallsPerSourcePerPage: base.maxCallsPerSourcePerPage,
    fetched: base.fetched,
    fetchedPerReturned: base.fetchedPerReturned,
    laterP50Ms: ms2(p50(later(records.map((r) => r.ms)))),
    ms: base.ms,
    perPageCalls: calls,
    perPageNeeded: needed,
    perPageContributing: contributing,
    perPageMs: records.map((r) => ms2(r.ms)),
  };
}

const ms2 = (v: number) => Math.round(v * 100) / 100;
const ratio = (a: number, b: number) => (Number.isFinite(a) && b > 0 ? round3(a / b) : Number.NaN);

/** The issue's budget per page of a no-cache provider walk (Inkit capping pages at 100, as the bench's does). */
function budgetOf(route: string, limit: number): number | null {
  if (route.startsWith("inkit"))
    return limit <= INKIT_PAGE_SIZE_CAP - 2 ? 1 : Math.ceil(limit / INKIT_PAGE_SIZE_CAP) + 1;
  return limit < 500 ? 1 : null;
}

async function saveFeed(ctx: Context, sources: string[]): Promise<string> {
  const res = await fetch(`${ctx.origin}/v1/feeds`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ctx.apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ sources, description: `bench: ${sources.length} sources` }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /v1/feeds (${sources.length} sources) -> ${res.status} ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

export async function runFeeds(ctx: Context, log: (line: string) => void): Promise<FeedsResult> {
  const started = performance.now();
  await Promise.all([admin(ctx.sims.inkit, "POST", "/reset"), admin(ctx.sims["8x8"], "POST", "/reset")]);
  // Part 3 turns item counting off while it loads the simulators.
  await Promise.all([ctx.sims.inkit, ctx.sims["8x8"]].map((u) => fetch(`${u}/__bench/count-items?on=1`)));
  type Definitions = { definitions: { id: string }[] };
  const seeded = (await admin<Definitions>(ctx.sims["8x8"], "GET", "/definitions")).definitions;
  const total = Math.max(...FEED_SIZES);
  const added = (
    await admin<Definitions>(ctx.sims["8x8"], "POST", "/definitions", {
      count: total - 1 - seeded.length,
      instances: INSTANCES_PER_DEFINITION,
    })
  ).definitions;
  const account = EIGHT_BY_EIGHT_ACCOUNT_IDS.demo;
  const sources = ["inkit", ...[...seeded, ...added].map((d) => `8x8:${account}/${d.id}`)];
  const feeds = new Map<number, string>();
  for (const n of FEED_SIZES) feeds.set(n, await saveFeed(ctx, sources.slice(0, n)));
  const firstUrl = (n: number) => `/v1/runs?feed=${feeds.get(n)}&limit=${FEED_LIMIT}`;
  await resetCounts(ctx);
  const healthzMs: number[] = [];

  const walks: FeedWalk[] = [];
  for (const mode of ["no-cache", "cache"] as const) {
    const t = performance.now();
    const open = FEED_SIZES.map((n) =>
      openWalk(ctx, `/v1/runs?feed=${feeds.get(n)}`, {
        limit: () => FEED_LIMIT,
        noCache: mode === "no-cache",
        cold: mode === "cache" ? `feeds-${n}` : undefined,
        maxPages: MAX_PAGES,
      }),
    );
    await interleave(ctx, open, healthzMs);
    const ms = performance.now() - t;
    open.forEach((w, i) => {
      const row = describeWalk(FEED_SIZES[i] ?? 0, mode, w, ms);
      walks.push(row);
      log(
        `  feed of ${String(row.sources).padStart(3)} ${mode.padEnd(8)} ${String(row.pages).padStart(3)} pages  cursor ≤ ${row.cursorBytes} B  first page ${row.firstPageCalls} calls  later ${row.laterCallsPerPage.toFixed(2)} calls/page (must read ${row.laterNeededPerPage.toFixed(2)})  ${row.fetchedPerReturned.toFixed(2)} fetched/returned  later p50 ${row.laterP50Ms} ms`,
      );
    });
    log(`  (${mode} walks interleaved: ${(ms / 1000).toFixed(1)} s)`);
  }

  const samples = new Map<number, { ms: number[]; calls: number[] }>(FEED_SIZES.map((n) => [n, { ms: [], calls: [] }]));
  const order = [...FEED_SIZES, 0];
  for (let r = 0; r < FIRST_PAGE_REPEATS; r++) {
    for (let k = 0; k < order.length; k++) {
      const n = order[(r + k) % order.length] ?? 0;
      if (n === 0) {
        healthzMs.push(await healthz(ctx));
        continue;
      }
      const page = await getPage(ctx, firstUrl(n), true);
      samples.get(n)?.ms.push(page.ms);
      samples.get(n)?.calls.push(callsOf(page));
    }
  }
  const firstPages = FEED_SIZES.map((n) => {
    const s = samples.get(n) ?? { ms: [], calls: [] };
    return { sources: n, samples: s.ms.length, p50Ms: ms2(p50(s.ms)), calls: s.calls };
  });
  const healthzP50 = ms2(p50(healthzMs));
  log(
    `  first pages (p50 of ${FIRST_PAGE_REPEATS}, no-cache): ${firstPages.map((f) => `${f.sources}: ${f.p50Ms} ms`).join(", ")}; /healthz p50 ${healthzP50} ms`,
  );

  const first = (n: number) => firstPages.find((f) => f.sources === n)?.p50Ms ?? Number.NaN;
  const later = (n: number, mode: FeedMode) =>
    walks.find((w) => w.sources === n && w.mode === mode)?.laterP50Ms ?? Number.NaN;
  const ratios = FEED_SIZES.map((n) => ({
    sources: n,
    firstOverOneSource: ratio(first(n), first(1)),
    firstOverHealthz: ratio(first(n), healthzP50),
    laterOverFourSources: {
      "no-cache": ratio(later(n, "no-cache"), later(4, "no-cache")),
      cache: ratio(later(n, "cache"), later(4, "cache")),
    },
    laterOverHealthz: {
      "no-cache": ratio(later(n, "no-cache"), healthzP50),
      cache: ratio(later(n, "cache"), healthzP50),
    },
  }));
  const goalRatio = ratio(later(total, "no-cache"), later(4, "no-cache"));

  const providerWalks: ProviderWalk[] = [];
  for (const id of ["inkit runs", "8x8 runs"]) {
    const route = ROUTES.find((r) => r.id === id);
    if (!route) throw new Error(`no route ${id}`);
    for (const limit of PROVIDER_LIMITS) {
      const walk = await walkForward(ctx, route.path, { limit: () => limit, noCache: true, maxPages: MAX_PAGES });
      const base = summarize(route, "no-cache" as const, String(limit), walk.records, walk.complete, 0, walk.ms);
      const budget = budgetOf(id, limit);
      const row = {
        ...base,
        budget,
        pagesOverBudget: budget === null ? 0 : base.perPageCalls.filter((c) => c > budget).length,
      };
      providerWalks.push(row);
      log(
        `  ${id.padEnd(10)} no-cache limit ${String(limit).padStart(3)}  ${String(row.pages).padStart(3)} pages  ${row.callsPerPage.toFixed(2)} calls/page (max ${row.maxCallsPerPage}, budget ${budget ?? "none"})  ${row.fetchedPerReturned.toFixed(2)} fetched/returned  ${row.ms} ms`,
      );
    }
  }

  const simulatorCounters = await simulatorCounterTotal(ctx);
  return {
    sources: {
      total: sources.length,
      seededDefinitions: seeded.length,
      addedDefinitions: added.length,
      instancesPerAddedDefinition: INSTANCES_PER_DEFINITION,
    },
    healthz: { samples: healthzMs.length, p50Ms: healthzP50 },
    firstPages,
    walks,
    ratios,
    laterPagesGoal: {
      sources: total,
      against: 4,
      ratio: goalRatio,
      goal: LATER_PAGES_GOAL,
      met: goalRatio <= LATER_PAGES_GOAL,
    },
    providerWalks,
    crossCheck: {
      benchCounted: countedCalls(),
      simulatorCounters,
      match: countedCalls() === simulatorCounters,
    },
    ms: Math.round(performance.now() - started),
  };
}
