import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../simulator/credentials";
import { eightByEightSim, inkitSim, resetSimulators } from "./support/simulator";
import { walkForward } from "./support/walk";

const def = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.orderNotifications;

// These tests measure the paging layer's upstream calls, so they bypass the listing cache.
const noCache = { headers: { "Cache-Control": "no-cache" } };

beforeEach(resetSimulators);

describe("an upstream that silently caps its page size", () => {
  it("Inkit capped at 20: full, gapless pages of 50, with extra calls only as needed", async () => {
    const truth = (await inkitSim.items({ kind: "run" })).items.map((r) => r.id);
    await inkitSim.fault({ route: "/v1/invoke", page_size_cap: 20 });
    await inkitSim.clearCounters();
    const walk = await walkForward("/v1/inkit/runs", 50, noCache);
    expect(walk.ids).toEqual(truth);
    const calls = (await inkitSim.counters()).total;
    // 3 calls per page of 50 at 20 a call, the minimum. On the first page the call that revealed the cap
    // (asked 50, got 20) is one of the three: its items are kept. The cursor carries the cap to later pages.
    expect(calls).toBe(walk.pages.length * 3);
  });

  it("8x8 capped at 30: full, gapless pages of 100", async () => {
    const truth = (await eightByEightSim.items<{ workflowId: string }>({ definitionId: def, version: "2" })).items.map(
      (r) => r.workflowId,
    );
    await eightByEightSim.fault({ page_size_cap: 30 });
    const walk = await walkForward(`/v1/8x8/accounts/acme-ops/definitions/${def}/runs`, 100, noCache);
    expect(walk.ids).toEqual(truth);
    expect(walk.pages.every((p, i) => i === walk.pages.length - 1 || p.data.length === 100)).toBe(true);
  });
});
