import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../simulator/credentials";
import { eightByEightSim, inkitSim, resetSimulators } from "./support/simulator";
import { type Collection, eightByEightCollection, inkitCollection, mergeTruth } from "./support/truth";
import { walkForward } from "./support/walk";

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

/** Every item that existed at T, in order: what an exactly-once walk must return. */
async function truthAt(collections: Collection[]) {
  return mergeTruth(await Promise.all(collections.map((c) => c.truth()))).map((i) => i.id);
}

/** A deterministic burst size in [0, 10 × limit] for page i. */
const burst = (i: number, limit: number) => (i * 7919 + 13) % (10 * limit + 1);

beforeEach(resetSimulators);

describe("exactly-once walks while upstreams insert at their heads", () => {
  const routes = [
    { name: "inkit runs", path: "/v1/inkit/runs", collections: [inkitRuns], pages: 12 },
    {
      name: "inkit workflow batches",
      path: "/v1/inkit/workflow-batches",
      collections: [inkitCollection("workflow_batch")],
      pages: 100,
    },
    { name: "inkit batches", path: "/v1/inkit/batches", collections: [inkitCollection("document_batch")], pages: 100 },
    {
      name: "8x8 runs",
      path: `/v1/8x8/accounts/acme-ops/definitions/${defs.smsKeywordRouter}/runs`,
      collections: [sms],
      pages: 100,
    },
    { name: "feed of 1 source", ...feeds[1], pages: 100 },
    { name: "feed of 2 sources", ...feeds[2], pages: 12 },
    { name: "feed of 4 sources", ...feeds[4], pages: 12 },
  ];

  it.each(routes)(
    "$name: up to 10 × limit inserts before every page, nothing repeated or skipped",
    async ({ path, collections, pages }) => {
      const limit = 20;
      const expected = await truthAt(collections);
      const walk = await walkForward(path, limit, noCache, pages, async (i) => {
        await Promise.all(collections.map((c, k) => c.insert(burst(i + k, limit))));
      });
      const complete = walk.pages.at(-1)?.page.next_cursor === null;
      expect(walk.ids).toEqual(complete ? expected : expected.slice(0, walk.ids.length));
      expect(new Set(walk.ids).size).toBe(walk.ids.length);
      if (pages === 100) expect(complete).toBe(true);
    },
  );

  it("a burst of exactly 10 × limit before every page, limit changing, still exactly once", async () => {
    const expected = await truthAt([inkitRuns]);
    const limits = [50, 10, 73, 25];
    const walk = await walkForward(
      "/v1/inkit/runs",
      (i) => limits[i % 4] ?? 10,
      noCache,
      10,
      async (i) => {
        await inkitRuns.insert(10 * (limits[i % 4] ?? 10));
      },
    );
    expect(walk.ids).toEqual(expected.slice(0, walk.ids.length));
  });

  it("property: random limits, insert bursts and source mixes never break exactly-once", async () => {
    const pool = [
      { spec: "inkit", collection: inkitRuns },
      { spec: `8x8:acme-ops/${defs.orderNotifications}`, collection: orders },
      { spec: `8x8:acme-ops/${defs.smsKeywordRouter}`, collection: sms },
      { spec: `8x8:acme-ops/${defs.appointmentReminders}`, collection: reminders },
    ];
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(pool, { minLength: 1 }),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.nat({ max: 10 }), { minLength: 4, maxLength: 4 }),
        async (sources, limits, bursts) => {
          runs++;
          await resetSimulators();
          const expected = await truthAt(sources.map((s) => s.collection));
          const path = feedPath(sources.map((s) => s.spec));
          const walk = await walkForward(
            path,
            (i) => limits[i % 4] ?? 10,
            noCache,
            4,
            async (i) => {
              // A burst of up to 10 × the page's limit into every source of the feed.
              const n = Math.min(1000, (bursts[i % 4] ?? 0) * (limits[i % 4] ?? 1));
              await Promise.all(sources.map((s) => s.collection.insert(n)));
            },
          );
          expect(walk.ids).toEqual(expected.slice(0, walk.ids.length));
        },
      ),
      { numRuns: 12, seed: 20261122 },
    );
    expect(runs).toBe(12);
  });
});

describe("merged feed: upstream calls per page", () => {
  const counted = async () => (await inkitSim.counters()).total + (await eightByEightSim.counters()).total;

  /** Walks 8 pages of 50 and returns the upstream calls each page cost (inserts, if any, are not counted). */
  async function callsPerPage(path: string, collections: Collection[], inserts: boolean) {
    const perPage: number[] = [];
    let before = await counted();
    const walk = await walkForward(path, 50, noCache, 9, async (i) => {
      perPage.push((await counted()) - before);
      if (inserts) await Promise.all(collections.map((c, k) => c.insert(burst(i + k, 50))));
      before = await counted();
    });
    return { perPage, walk };
  }

  it.each([1, 2, 4] as const)(
    "feed of %i: exactly one call per source that still has items, without inserts",
    async (n) => {
      const { perPage } = await callsPerPage(feeds[n].path, feeds[n].collections, false);
      expect(perPage).toEqual(Array(perPage.length).fill(n));
      console.log(`feed of ${n} source(s), no inserts: upstream calls per page ${JSON.stringify(perPage)}`);
    },
  );

  it.each([1, 2, 4] as const)(
    "feed of %i: calls per page with up to 10 × limit inserts per source before each page",
    async (n) => {
      const expected = await truthAt(feeds[n].collections);
      const { perPage, walk } = await callsPerPage(feeds[n].path, feeds[n].collections, true);
      expect(walk.ids).toEqual(expected.slice(0, walk.ids.length));
      // Pinned 8x8 lanes never drift; the Inkit lane finds its anchor with one extra read after a burst.
      for (const calls of perPage) expect(calls).toBeLessThanOrEqual(2 * n);
      console.log(`feed of ${n} source(s), with inserts: upstream calls per page ${JSON.stringify(perPage)}`);
    },
  );
});
