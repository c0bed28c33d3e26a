// 1. Upstream efficiency: full walks of every list route through the worker, counting what each page cost upstream.
// Calls and items are counted by the simulators (bench/sim-server.ts): calls per listing, and items = the sum of
// items in the upstream responses (exact, from the bodies served, not estimated). Each walk goes through the
// listing cache from a cold start (a credential of its own), so a cache hit counts 0 and pages share the blocks
// they read; the "uncached" walks send `Cache-Control: no-cache` and show what a page costs without the cache.
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../simulator/credentials";
import { admin } from "./lib/stack";
import {
  type Context,
  resetCounts,
  type Sim,
  summarize,
  type WalkResult as Walked,
  walkBackward,
  walkForward,
} from "./lib/walk";

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;

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

export type WalkResult = Walked<Mode>;

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
  await resetCounts(ctx);

  for (const [r, route] of ROUTES.entries()) {
    const tag = (mode: string) => `${mode}-${r}`;
    const constant = await walkForward(ctx, route.path, {
      limit: () => CONSTANT_LIMIT,
      noCache: false,
      cold: tag("constant"),
      maxPages: MAX_PAGES,
    });
    record(summarize(route, "constant", String(CONSTANT_LIMIT), constant.records, constant.complete, 0, constant.ms));

    // The same walk again at once (list TTL 15 s): every page should come from the cache.
    const cached = await walkForward(ctx, route.path, {
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
      const backward = await walkBackward(ctx, route.path, last, MAX_PAGES, tag("constant"));
      record(summarize(route, "backward", String(CONSTANT_LIMIT), backward.records, backward.complete, 0, backward.ms));
    }

    const varying = await walkForward(ctx, route.path, {
      limit: (i) => VARYING_LIMITS[i % VARYING_LIMITS.length] ?? 50,
      noCache: false,
      cold: tag("varying"),
      maxPages: MAX_PAGES,
    });
    record(summarize(route, "varying", VARYING_LIMITS.join("/"), varying.records, varying.complete, 0, varying.ms));

    const uncached = await walkForward(ctx, route.path, {
      limit: () => CONSTANT_LIMIT,
      noCache: true,
      maxPages: MAX_PAGES,
    });
    record(summarize(route, "uncached", String(CONSTANT_LIMIT), uncached.records, uncached.complete, 0, uncached.ms));
  }

  for (const [r, route] of ROUTES.entries()) {
    let inserted = 0;
    const walk = await walkForward(ctx, route.path, {
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
        const first = await walkForward(ctx, route.path, {
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
