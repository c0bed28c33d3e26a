import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import { type Collection, eightByEightCollection, inkitCollection, mergeTruth, type TruthItem } from "../support/truth";
import { walkBackward, walkForward } from "../support/walk";

// Every list route and merged feeds of 1, 2 and 4 sources, walked end to end in both tie orders the simulators
// can serve, at limits 1, 7, 50 and 500, with a limit changing every page, and backward. Every walk must return
// the simulators' data exactly once, in tributary's documented order, computed by test code alone (truth.ts).

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const runsOf = (def: string) => `/v1/8x8/accounts/acme-ops/definitions/${def}/runs`;
const feedPath = (sources: string[], query = "") =>
  `/v1/runs?${sources.map((s) => `source=${encodeURIComponent(s)}`).join("&")}${query}`;

/** Recent enough that a feed of thousands shrinks to a limit-1 walk of about a hundred pages. */
const RECENT = "2026-10-29T00:00:00.000000Z";
const recent = (items: TruthItem[]) => items.filter((i) => i.created_at > RECENT);

interface Listing {
  name: string;
  path: string;
  truth: () => Promise<TruthItem[]>;
  /** The same listing cut to a size a limit-1 walk can cover (the listing itself when small). */
  small: { path: string; truth: () => Promise<TruthItem[]> };
}

const orders = eightByEightCollection(defs.orderNotifications, 2);
const sms = eightByEightCollection(defs.smsKeywordRouter, 1);
const reminders = eightByEightCollection(defs.appointmentReminders, 3);
const runs = inkitCollection("run");
const merged = (cs: Collection[]) => async () => mergeTruth(await Promise.all(cs.map((c) => c.truth())));

const feed = (name: string, specs: string[], cs: Collection[], cut = true): Listing => ({
  name,
  path: feedPath(specs),
  truth: merged(cs),
  small: cut
    ? { path: feedPath(specs, `&created_after=${RECENT}`), truth: async () => recent(await merged(cs)()) }
    : { path: feedPath(specs), truth: merged(cs) },
});

const listings: Listing[] = [
  {
    name: "inkit runs",
    path: "/v1/inkit/runs",
    truth: runs.truth,
    small: { path: "/v1/inkit/workflow-batches", truth: inkitCollection("workflow_batch").truth },
  },
  ...(["workflow_batch", "document_batch"] as const).map((kind) => {
    const path = kind === "workflow_batch" ? "/v1/inkit/workflow-batches" : "/v1/inkit/batches";
    const { truth } = inkitCollection(kind);
    return { name: `inkit ${kind}`, path, truth, small: { path, truth } };
  }),
  {
    name: "8x8 runs",
    path: runsOf(defs.orderNotifications),
    truth: orders.truth,
    small: { path: runsOf(defs.appointmentReminders), truth: reminders.truth },
  },
  feed("feed of 1 source", [`8x8:acme-ops/${defs.smsKeywordRouter}`], [sms], false),
  feed("feed of 2 sources", ["inkit", `8x8:acme-ops/${defs.orderNotifications}`], [runs, orders]),
  feed(
    "feed of 4 sources",
    [
      "inkit",
      `8x8:acme-ops/${defs.orderNotifications}`,
      `8x8:acme-ops/${defs.smsKeywordRouter}`,
      `8x8:acme-ops/${defs.appointmentReminders}`,
    ],
    [runs, orders, sms, reminders],
  ),
];

// These walks measure the paging layer, so every page goes to the upstream.
const noCache = { headers: { "Cache-Control": "no-cache" } };
const ids = (items: { id: string }[]) => items.map((i) => i.id);

async function useTieOrder(mode: "hidden" | "window") {
  await resetSimulators();
  await Promise.all([inkitSim.settings({ tie_order: mode }), eightByEightSim.settings({ tie_order: mode })]);
}

describe.each(["hidden", "window"] as const)("ties served in the %s order", (mode) => {
  beforeEach(() => useTieOrder(mode));

  describe.each(listings)("$name", ({ path, truth, small }) => {
    it("limit 1: every item exactly once, in order, to the end", async () => {
      const expected = ids(await small.truth());
      expect(expected.length).toBeGreaterThan(50);
      const walk = await walkForward(small.path, 1, noCache);
      expect(walk.ids).toEqual(expected);
      expect(walk.pages.at(-1)?.page.next_cursor).toBeNull();
    });

    it.each([7, 50, 500])("limit %i: every item exactly once, in order, to the end", async (limit) => {
      const expected = ids(await truth());
      const walk = await walkForward(path, limit, noCache);
      expect(walk.ids).toEqual(expected);
      expect(walk.pages.length).toBe(Math.max(1, Math.ceil(expected.length / limit)));
    });

    it("a limit changed on every page neither skips nor repeats", async () => {
      const expected = ids(await truth());
      const limits = [7, 50, 1, 233, 19, 500, 64, 3, 128];
      const walk = await walkForward(path, (i) => limits[i % limits.length] ?? 10, noCache);
      expect(walk.ids).toEqual(expected);
    });

    it("prev_cursor walks back through exactly the same pages", async () => {
      const forward = await walkForward(path, 97, noCache);
      const lastPrev = forward.pages.at(-1)?.page.prev_cursor;
      expect(lastPrev).toBeTruthy();
      const backward = await walkBackward(path, lastPrev as string, noCache);
      const expectedPages = forward.pages.slice(0, -1).reverse();
      expect(backward.map((p) => ids(p.data))).toEqual(expectedPages.map((p) => ids(p.data)));
      expect(backward.at(-1)?.page.prev_cursor).toBeNull();
    });
  });
});

describe("the order within ties is tributary's, whatever the upstream's", () => {
  beforeEach(resetSimulators);

  it("Inkit's ascending creation sort: created_at, then id, both ascending", async () => {
    const expected = ids([...(await runs.truth())].reverse());
    const walk = await walkForward("/v1/inkit/runs?sort=created_at", 250, noCache);
    expect(walk.ids).toEqual(expected);
  });

  it("the big tie group and the cross-provider ties come out in the documented order", async () => {
    const truth = await merged([runs, orders])();
    const walk = await walkForward(feedPath(["inkit", `8x8:acme-ops/${defs.orderNotifications}`]), 50, noCache);
    const byTime = new Map<string, TruthItem[]>();
    for (const item of truth) byTime.set(item.created_at, [...(byTime.get(item.created_at) ?? []), item]);
    const groups = [...byTime.values()].filter((g) => g.length > 1);
    expect(groups.some((g) => g.length >= 60)).toBe(true);
    expect(groups.some((g) => new Set(g.map((i) => i.provider)).size === 2)).toBe(true);
    expect(walk.ids).toEqual(ids(truth));
  });
});

describe("totals", () => {
  beforeEach(resetSimulators);

  it("Inkit lists carry the upstream total; 8x8 lists carry null", async () => {
    const inkit = await walkForward("/v1/inkit/batches", 500);
    expect(inkit.pages[0]?.page.total).toBe(inkit.ids.length);
    const ebe = await walkForward(runsOf(defs.smsKeywordRouter), 500);
    expect(ebe.pages[0]?.page.total).toBeNull();
  });
});
