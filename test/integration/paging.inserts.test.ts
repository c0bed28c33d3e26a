import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { coldCache } from "../support/cold-cache";
import { fuzz } from "../support/fuzz";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import { type Collection, eightByEightCollection, inkitCollection, mergeTruth } from "../support/truth";
import { walkBackward, walkForward } from "../support/walk";

// Exactly once at T: a forward walk started at T returns every item that existed at T exactly once, in
// tributary's order, while up to 10 × limit items arrive at the upstreams' heads before every page. Inserted
// items tie with each other and now and then with the head; they may appear, but at most once and in order.

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const noCache = { headers: { "Cache-Control": "no-cache" } };

const inkitRuns = inkitCollection("run");
const orders = eightByEightCollection(defs.orderNotifications, 2);
const sms = eightByEightCollection(defs.smsKeywordRouter, 1);
const reminders = eightByEightCollection(defs.appointmentReminders, 3);

const feedPath = (sources: string[]) => `/v1/runs?${sources.map((s) => `source=${encodeURIComponent(s)}`).join("&")}`;
const feeds = {
  1: { path: feedPath([`8x8:acme-ops/${defs.smsKeywordRouter}`]), collections: [sms] },
  2: { path: feedPath(["inkit", `8x8:acme-ops/${defs.orderNotifications}`]), collections: [inkitRuns, orders] },
  4: {
    path: feedPath([
      "inkit",
      `8x8:acme-ops/${defs.orderNotifications}`,
      `8x8:acme-ops/${defs.smsKeywordRouter}`,
      `8x8:acme-ops/${defs.appointmentReminders}`,
    ]),
    collections: [inkitRuns, orders, sms, reminders],
  },
};

/** Every item that existed at T, in the merged order (one provider: its own order). */
async function truthAt(collections: Collection[]) {
  return mergeTruth(await Promise.all(collections.map((c) => c.truth()))).map((i) => i.id);
}

/** A deterministic burst size in [0, 10 × limit] for page i. */
const burst = (i: number, limit: number) => (i * 7919 + 13) % (10 * limit + 1);

/** Inserts `count` items in calls of at most 1,000 (the admin API's limit). */
async function insert(c: Collection, count: number) {
  for (let left = count; left > 0; left -= 1000) await c.insert(Math.min(1000, left));
}

/** The walk holds every item of T exactly once and in order; anything else in it appeared once. */
function expectExactlyOnce(walked: string[], expected: string[]) {
  const atT = new Set(expected);
  expect(walked.filter((id) => atT.has(id))).toEqual(expected);
  expect(new Set(walked).size).toBe(walked.length);
}

const routes = [
  { name: "inkit runs", path: "/v1/inkit/runs", collections: [inkitRuns], limit: 200 },
  {
    name: "inkit workflow batches",
    path: "/v1/inkit/workflow-batches",
    collections: [inkitCollection("workflow_batch")],
    limit: 20,
  },
  {
    name: "inkit batches",
    path: "/v1/inkit/batches",
    collections: [inkitCollection("document_batch")],
    limit: 20,
  },
  {
    name: "8x8 runs",
    path: `/v1/8x8/accounts/acme-ops/definitions/${defs.smsKeywordRouter}/runs`,
    collections: [sms],
    limit: 20,
  },
  { name: "feed of 1 source", ...feeds[1], limit: 20 },
  { name: "feed of 2 sources", ...feeds[2], limit: 200 },
  { name: "feed of 4 sources", ...feeds[4], limit: 200 },
];

describe.each(["hidden", "window"] as const)("exactly once under head inserts, ties in the %s order", (mode) => {
  beforeEach(async () => {
    await resetSimulators();
    await Promise.all([inkitSim.settings({ tie_order: mode }), eightByEightSim.settings({ tie_order: mode })]);
  });

  it.each(routes)(
    "$name: up to 10 × limit inserts before every page, whole walk",
    async ({ path, collections, limit }) => {
      const expected = await truthAt(collections);
      const walk = await walkForward(path, limit, noCache, 10_000, async (i) => {
        await Promise.all(collections.map((c, k) => insert(c, burst(i + k, limit))));
      });
      expect(walk.pages.at(-1)?.page.next_cursor).toBeNull();
      expectExactlyOnce(walk.ids, expected);
    },
  );

  it("a burst of exactly 10 × limit before every page, with the limit changing, backward too", async () => {
    const expected = await truthAt([inkitRuns]);
    const limits = [50, 10, 73, 25];
    const walk = await walkForward(
      "/v1/inkit/runs",
      (i) => limits[i % 4] ?? 10,
      noCache,
      10_000,
      (i) => insert(inkitRuns, 10 * (limits[i % 4] ?? 10)),
    );
    expectExactlyOnce(walk.ids, expected);
    // Back from the last page while items keep arriving: the walk never leaves what existed at T.
    const back = await walkBackward("/v1/inkit/runs", walk.pages.at(-1)?.page.prev_cursor as string, noCache);
    const backIds = back.reverse().flatMap((p) => p.data.map((d) => d.id));
    expect(backIds.filter((id) => expected.includes(id))).toEqual(
      walk.pages
        .slice(0, -1)
        .flatMap((p) => p.data.map((d) => d.id))
        .filter((id) => expected.includes(id)),
    );
  });

  it("property: random limits, insert bursts and source mixes never break exactly-once", async () => {
    const pool = [
      { spec: "inkit", collection: inkitRuns },
      { spec: `8x8:acme-ops/${defs.orderNotifications}`, collection: orders },
      { spec: `8x8:acme-ops/${defs.smsKeywordRouter}`, collection: sms },
      { spec: `8x8:acme-ops/${defs.appointmentReminders}`, collection: reminders },
    ];
    let runs = 0;
    await fuzz(
      `walks.inserts.${mode}`,
      fc.asyncProperty(
        fc.subarray(pool, { minLength: 1 }),
        fc.array(fc.integer({ min: 150, max: 500 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.nat({ max: 10 }), { minLength: 4, maxLength: 4 }),
        async (sources, limits, bursts) => {
          runs++;
          await resetSimulators();
          await Promise.all([inkitSim.settings({ tie_order: mode }), eightByEightSim.settings({ tie_order: mode })]);
          const expected = await truthAt(sources.map((s) => s.collection));
          const walk = await walkForward(
            feedPath(sources.map((s) => s.spec)),
            (i) => limits[i % 4] ?? 150,
            noCache,
            10_000,
            async (i) => {
              const n = Math.min(2000, (bursts[i % 4] ?? 0) * (limits[i % 4] ?? 1));
              await Promise.all(sources.map((s) => insert(s.collection, n)));
            },
          );
          expect(walk.pages.at(-1)?.page.next_cursor).toBeNull();
          expectExactlyOnce(walk.ids, expected);
        },
      ),
      6,
    );
    expect(runs).toBe(6);
  });
});

describe("8x8 publishes a new version of a definition during a walk", () => {
  beforeEach(resetSimulators);

  it.each([
    ["the provider route", `/v1/8x8/accounts/acme-ops/definitions/${defs.appointmentReminders}/runs`],
    ["a merged feed", feedPath(["inkit", `8x8:acme-ops/${defs.appointmentReminders}`])],
  ])("%s keeps walking the version it started on", async (_, path) => {
    const collections = path.startsWith("/v1/runs") ? [inkitRuns, reminders] : [reminders];
    const expected = await truthAt(collections);
    const walk = await walkForward(path, 16, noCache, 10_000, async (i) => {
      if (i === 0) {
        await eightByEightSim.publish({ definitionId: defs.appointmentReminders });
        await eightByEightSim.insert({ definitionId: defs.appointmentReminders, count: 64 });
      }
    });
    expect(walk.pages.at(-1)?.page.next_cursor).toBeNull();
    expectExactlyOnce(walk.ids, expected);
  });
});

/** The cache resources of a feed's sources (`inkit` reads Inkit runs). */
const resourcesOf = (path: string) =>
  new URL(path, "https://t.test").searchParams.getAll("source").map((s) => (s === "inkit" ? "inkit:runs" : s));

describe("upstream calls per page", () => {
  const counted = async () => {
    const [a, b] = await Promise.all([inkitSim.counters(), eightByEightSim.counters()]);
    return { calls: a.total + b.total, items: a.items + b.items };
  };

  /** Walks a feed at limit 50 through the listing cache, from a cold start, and reports its upstream cost. */
  async function cost(path: string, collections: Collection[], inserts: boolean) {
    await resetSimulators();
    await coldCache(resourcesOf(path));
    const perPage: number[] = [];
    let before = await counted();
    const start = before;
    const walk = await walkForward(path, 50, {}, 9, async (i) => {
      const now = await counted();
      perPage.push(now.calls - before.calls);
      if (inserts) await Promise.all(collections.map((c, k) => insert(c, burst(i + k, 50))));
      before = await counted();
    });
    const end = await counted();
    perPage.push(end.calls - before.calls);
    const returned = walk.ids.length;
    return { perPage, walk, fetchedPerReturned: (end.items - start.items) / returned };
  }

  it.each([1, 2, 4] as const)("feed of %i: at most one call per source per page through the cache", async (n) => {
    const { perPage, fetchedPerReturned } = await cost(feeds[n].path, feeds[n].collections, false);
    // Lanes read aligned blocks of 100 that later pages share: pages after the first mostly cost nothing.
    const total = perPage.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(perPage.length * n);
    console.log(
      `feed of ${n}, no inserts: calls per page ${JSON.stringify(perPage)}; items fetched per item returned ${fetchedPerReturned.toFixed(2)}`,
    );
  });

  it.each([1, 2, 4] as const)("feed of %i: calls per page with up to 10 × limit inserts per source", async (n) => {
    const { perPage, fetchedPerReturned } = await cost(feeds[n].path, feeds[n].collections, true);
    // Pinned 8x8 lanes never drift; an Inkit lane reads its block again after a burst moved it.
    for (const calls of perPage) expect(calls).toBeLessThanOrEqual(3 * n);
    console.log(
      `feed of ${n}, with inserts: calls per page ${JSON.stringify(perPage)}; items fetched per item returned ${fetchedPerReturned.toFixed(2)}`,
    );
  });
});
