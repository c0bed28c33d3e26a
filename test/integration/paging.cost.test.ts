import { afterAll, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { coldCache } from "../support/cold-cache";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import { eightByEightTruth, inkitTruth } from "../support/truth";
import { walkForward } from "../support/walk";

// What walks cost upstream, per route and tie order: calls per page and items fetched per item returned, through
// the listing cache (consecutive pages share the aligned blocks their sources read) and without it (no-store).
// Upstream call counts are deterministic, so they are asserted; the figures are printed for the README.

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const feed = (sources: string[]) => `/v1/runs?${sources.map((s) => `source=${encodeURIComponent(s)}`).join("&")}`;
const routes = [
  { name: "inkit runs", path: "/v1/inkit/runs", resources: ["inkit:runs"] },
  { name: "inkit workflow batches", path: "/v1/inkit/workflow-batches", resources: ["inkit:workflow-batches"] },
  { name: "inkit batches", path: "/v1/inkit/batches", resources: ["inkit:batches"] },
  {
    name: "8x8 runs",
    path: `/v1/8x8/accounts/acme-ops/definitions/${defs.orderNotifications}/runs`,
    resources: [`8x8:acme-ops/${defs.orderNotifications}`],
  },
  {
    name: "feed of 4 sources",
    path: feed([
      "inkit",
      `8x8:acme-ops/${defs.orderNotifications}`,
      `8x8:acme-ops/${defs.smsKeywordRouter}`,
      `8x8:acme-ops/${defs.appointmentReminders}`,
    ]),
    resources: [
      "inkit:runs",
      `8x8:acme-ops/${defs.orderNotifications}`,
      `8x8:acme-ops/${defs.smsKeywordRouter}`,
      `8x8:acme-ops/${defs.appointmentReminders}`,
    ],
  },
];

const counted = async () => {
  const [a, b] = await Promise.all([inkitSim.counters(), eightByEightSim.counters()]);
  return { calls: a.total + b.total, items: a.items + b.items };
};

/** Walks `path` forward, counting the simulators' upstream calls each page cost (the last entry: the last page). */
async function walkCountingCalls(path: string, limit: number | ((page: number) => number), init: RequestInit = {}) {
  const perPage: number[] = [];
  let before = await counted();
  const walk = await walkForward(path, limit, init, 10_000, async () => {
    const now = await counted();
    perPage.push(now.calls - before.calls);
    before = now;
  });
  perPage.push((await counted()).calls - before.calls);
  return { walk, perPage };
}

const report: string[] = [];
afterAll(() => console.log(`walk cost, limit 50:\n${report.join("\n")}`));

describe.each(["hidden", "window"] as const)("walk cost with ties in the %s order", (mode) => {
  it.each(routes)("$name", async ({ name, path, resources }) => {
    await resetSimulators();
    await Promise.all([inkitSim.settings({ tie_order: mode }), eightByEightSim.settings({ tie_order: mode })]);
    await coldCache(resources);

    const cost = async (init: RequestInit) => {
      const before = await counted();
      const walk = await walkForward(path, 50, init);
      const after = await counted();
      return { walk, calls: after.calls - before.calls, items: after.items - before.items };
    };
    const cached = await cost({});
    const uncached = await cost({ headers: { "Cache-Control": "no-store" } });
    const pages = cached.walk.pages.length;
    const returned = cached.walk.ids.length;
    expect(uncached.walk.ids).toEqual(cached.walk.ids);

    // Through the cache a walk fetches about what it returns, and at most one call per page and source.
    expect(cached.calls).toBeLessThanOrEqual(pages * resources.length);
    expect(cached.items / returned).toBeLessThanOrEqual(1.2);
    // Without it every page goes upstream, reading the one or two blocks per source it spans.
    expect(uncached.calls).toBeGreaterThanOrEqual(pages);
    expect(uncached.calls).toBeLessThanOrEqual(pages * resources.length * 3);
    report.push(
      `${mode.padEnd(6)} ${name.padEnd(22)} pages ${String(pages).padStart(3)} | cached: ${(cached.calls / pages).toFixed(2)} calls/page, ${(cached.items / returned).toFixed(2)} fetched/returned | no-store: ${(uncached.calls / pages).toFixed(2)} calls/page, ${(uncached.items / returned).toFixed(2)} fetched/returned`,
    );
  });
});

// A walk whose limit changes every page (as the bench's "varying" walk): a page costs the blocks it spans plus at
// most a tie group read again, never a stream of ever-smaller reads. The offset model once carried the most items
// 8x8 ever served as its hint, which reads took for a cap: a 500-item page shrank into 12 calls.
describe("walk cost with a limit that changes every page", () => {
  const limits = [7, 50, 1, 233, 19, 500, 64, 3, 128];
  it.each([
    // 8x8 serves up to 500 per call: a page needs one block of 100 or 500, or two when it crosses one.
    { ...(routes[3] as (typeof routes)[number]), most: 2, total: 10 },
    // Inkit serves 100 per call (its silent cap): a 500-item page needs 5 or 6 of them, plus the call that
    // reveals the cap (asked at 500 on the first page over 97 items).
    { ...(routes[0] as (typeof routes)[number]), most: 7, total: 36 },
  ])("$name", async ({ path, resources, most, total }) => {
    await resetSimulators();
    await coldCache(resources);
    const { walk, perPage } = await walkCountingCalls(path, (i) => limits[i % limits.length] as number);
    expect(new Set(walk.ids).size).toBe(walk.ids.length);
    expect(Math.max(...perPage), `calls per page: ${perPage.join(",")}`).toBeLessThanOrEqual(most);
    expect(
      perPage.reduce((a, b) => a + b, 0),
      `calls per page: ${perPage.join(",")}`,
    ).toBeLessThanOrEqual(total);
    report.push(`varying limits  ${path.slice(0, 40).padEnd(40)} calls per page ${perPage.join(",")}`);
  });
});

// Without the cache (no-store, or any walker slower than the cache's TTL) a provider page reads the window it needs
// in the fewest calls that can cover it. The window is computed here from the simulator's items, not by the
// engine: from the item before the key's tie group (which proves the walk's place) to the first item after the
// page's last tie group (a tie group is ordered whole). One page-model call covers it when a single page size up to
// the cap holds it (at limit 98 under a cap of 100 that needs an aligned window: most pages take two); one
// offset-model call holds up to 500 items. Pages the engine cannot plan exactly are bounded too: a tie group
// that reaches more than 4 items past the page (the engine reads up to 4 past its window when no call is added) is
// found by reading on, and a group cut between two responses is read again as one.
describe("without the cache, a provider page costs the fewest calls that cover its window", () => {
  const INKIT_CAP = 100;
  /** The page size the engine asks at most of Inkit (INKIT_MAX_PAGE_SIZE's default). */
  const INKIT_MAX = 500;
  const EIGHT_BY_EIGHT_MAX = 500;
  /** The fewest page/page_size calls covering [from, to) with one page size up to the cap, found by trying each. */
  const fewestPageCalls = (from: number, to: number, cap: number) => {
    let fewest = Number.POSITIVE_INFINITY;
    for (let size = 1; size <= cap; size++)
      fewest = Math.min(fewest, Math.floor((to - 1) / size) - Math.floor(from / size) + 1);
    return fewest;
  };
  const eightByEight = routes[3] as (typeof routes)[number];
  // `atFewest`: the share of planned pages that cost exactly the fewest calls (two-call windows more often hold a
  // tie group cut between their responses).
  it.each([
    { route: routes[0] as (typeof routes)[number], limit: 7, atFewest: 0.95, note: "" },
    { route: routes[0] as (typeof routes)[number], limit: 50, atFewest: 0.95, note: "" },
    { route: routes[0] as (typeof routes)[number], limit: 98, atFewest: 0.9, note: "" },
    // The issue's budget for this row, ceil(500 / 100) + 1 = 6 calls, is what the fewest is here: every page.
    { route: routes[0] as (typeof routes)[number], limit: 500, atFewest: 1, note: "" },
    // Without a silent cap (the page model then goes up to INKIT_MAX_PAGE_SIZE, 500), a 98-item page and one item
    // either side fit one call almost wherever they fall.
    { route: routes[0] as (typeof routes)[number], limit: 98, atFewest: 0.9, cap: null, note: ", no cap" },
    { route: eightByEight, limit: 7, atFewest: 0.95, note: "" },
    { route: eightByEight, limit: 50, atFewest: 0.95, note: "" },
    { route: eightByEight, limit: 499, atFewest: 1, note: "" },
  ])("$route.name, limit $limit$note", async ({ route, limit, atFewest, cap = INKIT_CAP }) => {
    await resetSimulators();
    if (cap !== INKIT_CAP) await inkitSim.settings({ page_size_cap: cap });
    const inkit = route === routes[0];
    const truth = inkit ? await inkitTruth("run") : await eightByEightTruth(defs.orderNotifications, 2);
    const { walk, perPage } = await walkCountingCalls(route.path, limit, { headers: { "Cache-Control": "no-store" } });
    expect(walk.ids).toEqual(truth.map((t) => t.id));

    const time = (i: number) => truth[i]?.created_at;
    const groupStart = (i: number) => {
      let j = i;
      while (j > 0 && time(j - 1) === time(i)) j--;
      return j;
    };
    const groupEnd = (i: number) => {
      let j = i;
      while (j < truth.length && time(j) === time(i)) j++;
      return j;
    };
    let exact = 0;
    const long: string[] = [];
    for (const [k, calls] of perPage.entries()) {
      const first = k * limit;
      const last = Math.min(truth.length, first + limit) - 1;
      const from = first === 0 ? 0 : Math.max(0, groupStart(first - 1) - 1);
      const to = Math.min(truth.length, groupEnd(last) + 1);
      const plainTo = Math.min(truth.length, last + 2);
      const fewest = inkit ? fewestPageCalls(from, to, cap ?? INKIT_MAX) : Math.ceil((to - from) / EIGHT_BY_EIGHT_MAX);
      // 8x8 reports no total: its end is proven by an empty answer, one call more on the walk's last page.
      const end = !inkit && k === perPage.length - 1 ? 1 : 0;
      const where = `page ${k} (items ${from}..${to - 1}): ${calls} calls, fewest ${fewest}`;
      if (to - plainTo <= 4) {
        // The window as planned: one call when one holds it; one more when a tie group falls between two responses.
        expect(calls, where).toBeLessThanOrEqual(fewest + (fewest > 1 ? 1 : 0) + end);
        if (calls === fewest + end) exact++;
      } else {
        // A tie group reaching further than the engine could see: read on, asking twice as much each time.
        expect(calls, where).toBeLessThanOrEqual(fewest + 1 + Math.ceil(Math.log2((to - plainTo) / 4)) + end + 1);
        if (calls > fewest + end) long.push(where);
        else exact++;
      }
    }
    report.push(
      `no-store ${route.name.padEnd(10)} limit ${String(limit).padStart(3)}${cap === INKIT_CAP ? "" : `, cap ${cap}`}: ${perPage.length} pages, ${(perPage.reduce((a, b) => a + b, 0) / perPage.length).toFixed(2)} calls/page, ${exact} at the fewest calls; ${long.length} more with a tie group past the page (${long.join("; ")})`,
    );
    expect(exact).toBeGreaterThanOrEqual(Math.floor(perPage.length * atFewest));
  });
});
