import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../simulator/credentials";
import { eightByEightSim, inkitSim, resetSimulators } from "./support/simulator";
import { walkBackward, walkForward } from "./support/walk";

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const runsOf = (def: string) => `/v1/8x8/accounts/acme-ops/definitions/${def}/runs`;

/** Each list route with the simulator query that yields its full truth, newest first. */
const routes = [
  { name: "inkit runs", path: "/v1/inkit/runs", sim: inkitSim, truth: { kind: "run" }, route: "GET /v1/invoke" },
  {
    name: "inkit workflow batches",
    path: "/v1/inkit/workflow-batches",
    sim: inkitSim,
    truth: { kind: "workflow_batch" },
    route: "GET /v1/invoke/batch",
  },
  {
    name: "inkit batches",
    path: "/v1/inkit/batches",
    sim: inkitSim,
    truth: { kind: "document_batch" },
    route: "GET /v1/batch",
  },
  {
    name: "8x8 runs",
    path: runsOf(defs.orderNotifications),
    sim: eightByEightSim,
    truth: { definitionId: defs.orderNotifications, version: "2" },
    route: "GET /api/v1/accounts/:accountId/definitions/:definitionId/workflows",
  },
] as const;

async function truthIds(sim: typeof inkitSim, query: Record<string, string>) {
  const { items } = await sim.items<{ id?: string; workflowId?: string }>(query);
  return items.map((item) => item.id ?? item.workflowId ?? "");
}

async function upstreamCalls(sim: typeof inkitSim, route: string) {
  return (await sim.counters()).routes[route] ?? 0;
}

// These tests measure the paging layer's upstream calls, so they bypass the listing cache.
const noCache = { headers: { "Cache-Control": "no-cache" } };

beforeEach(resetSimulators);

describe.each(routes)("walking $name end to end", ({ path, sim, truth, route }) => {
  it.each([50, 137, 500])("limit %i: every item exactly once, in order, one upstream call per page", async (limit) => {
    const expected = await truthIds(sim, truth);
    expect(expected.length).toBeGreaterThan(150);
    await sim.clearCounters();
    const walk = await walkForward(path, limit, noCache);
    expect(walk.ids).toEqual(expected);
    expect(walk.pages.length).toBe(Math.ceil(expected.length / limit));
    // 8x8 has no total: a full page of 500 needs one more call (limit is capped at 500) to know whether more follow.
    const perPage = sim === eightByEightSim && limit === 500 ? 2 : 1;
    expect(await upstreamCalls(sim, route)).toBe(walk.pages.length * perPage - (perPage === 2 ? 1 : 0));
  });

  it("a limit changed on every page neither skips nor repeats", async () => {
    const expected = await truthIds(sim, truth);
    const limits = [7, 50, 1, 233, 19, 500, 64, 3, 128];
    const walk = await walkForward(path, (i) => limits[i % limits.length] ?? 10);
    expect(walk.ids).toEqual(expected);
  });

  it("prev_cursor walks back through exactly the same pages, one upstream call each", async () => {
    const forward = await walkForward(path, 97);
    const lastPrev = forward.pages.at(-1)?.page.prev_cursor;
    expect(lastPrev).toBeTruthy();
    await sim.clearCounters();
    const backward = await walkBackward(path, lastPrev as string, noCache);
    // One upstream call per page backward too: an unchanged total (Inkit) or the pin (8x8) shows no drift.
    expect(await upstreamCalls(sim, route)).toBe(backward.length);
    const expectedPages = forward.pages.slice(0, -1).reverse();
    expect(backward.map((p) => p.data.map((d) => d.id))).toEqual(expectedPages.map((p) => p.data.map((d) => d.id)));
    expect(backward.at(-1)?.page.prev_cursor).toBeNull();
  });
});

describe("totals", () => {
  it("Inkit lists carry the upstream total; 8x8 lists carry null", async () => {
    const inkit = await walkForward("/v1/inkit/batches", 500);
    expect(inkit.pages[0]?.page.total).toBe(inkit.ids.length);
    const ebe = await walkForward(runsOf(defs.smsKeywordRouter), 500);
    expect(ebe.pages[0]?.page.total).toBeNull();
  });
});
