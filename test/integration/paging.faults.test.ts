import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import { eightByEightTruth, inkitTruth, tieGroups } from "../support/truth";
import { walkForward } from "../support/walk";

const def = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.orderNotifications;

// These tests measure the paging layer's upstream calls, so they bypass the listing cache.
const noCache = { headers: { "Cache-Control": "no-cache" } };

beforeEach(resetSimulators);

describe("an upstream that silently caps its page size", () => {
  it("Inkit capped at 20: full, gapless pages of 50; each block of 20 is read once across the walk", async () => {
    const truth = await inkitTruth("run");
    await inkitSim.fault({ route: "/v1/invoke", page_size_cap: 20 });
    await inkitSim.clearCounters();
    // Through the listing cache: consecutive pages share the aligned blocks they read.
    const walk = await walkForward("/v1/inkit/runs", 50);
    expect(walk.ids).toEqual(truth.map((r) => r.id));
    const { total: calls, items } = await inkitSim.counters();
    // One call per block of 20 (the first one, asked for 100, reveals the cap and is kept), plus at most one
    // re-read for each tie group that two blocks served (ties may be served in another order per window).
    const groups = tieGroups(truth, (r) => r.created_at).length;
    expect(calls).toBeGreaterThanOrEqual(Math.ceil(truth.length / 20));
    expect(calls).toBeLessThanOrEqual(Math.ceil(truth.length / 20) + groups);
    console.log(
      `Inkit capped at 20, limit 50, cached: ${calls} calls for ${walk.pages.length} pages; ${items} items fetched for ${truth.length} returned`,
    );
  });

  it("Inkit capped at 20 without the cache: every page reads only the blocks it spans", async () => {
    const truth = await inkitTruth("run");
    await inkitSim.fault({ route: "/v1/invoke", page_size_cap: 20 });
    await inkitSim.clearCounters();
    const walk = await walkForward("/v1/inkit/runs", 50, noCache);
    expect(walk.ids).toEqual(truth.map((r) => r.id));
    const calls = (await inkitSim.counters()).total;
    // A page needs its 50 items plus one on each side (to see that no tie group was cut): 53 items span at
    // most 4 blocks of 20; a tie group served by two blocks costs one more call.
    const groups = tieGroups(truth, (r) => r.created_at).length;
    expect(calls).toBeLessThanOrEqual(walk.pages.length * 4 + groups);
    console.log(`Inkit capped at 20, limit 50, no-cache: ${calls} calls for ${walk.pages.length} pages`);
  });

  it("8x8 capped at 30: full, gapless pages of 100", async () => {
    const truth = (await eightByEightTruth(def, 2)).map((r) => r.id);
    await eightByEightSim.fault({ page_size_cap: 30 });
    const walk = await walkForward(`/v1/8x8/accounts/acme-ops/definitions/${def}/runs`, 100, noCache);
    expect(walk.ids).toEqual(truth);
    expect(walk.pages.every((p, i) => i === walk.pages.length - 1 || p.data.length === 100)).toBe(true);
  });
});
