import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { coldCache } from "../support/cold-cache";
import { inkitSim, resetSimulators } from "../support/simulator";
import { walkForward } from "../support/walk";

// A silent page-size cap is learned once per listing and credential and remembered (isolate memory plus KV), so a
// later walk aligns its reads to it from its first page. Upstream calls are deterministic: they are asserted.

const PATH = "/v1/inkit/runs";

/** Upstream calls per page of a walk from a cold listing cache (the remembered cap is not part of it). */
async function callsPerPage(limits: number[]): Promise<{ calls: number[]; ids: string[] }> {
  await coldCache(["inkit:runs"]);
  const calls: number[] = [];
  let before = (await inkitSim.counters()).total;
  const count = async () => {
    const now = (await inkitSim.counters()).total;
    calls.push(now - before);
    before = now;
  };
  const walk = await walkForward(PATH, (i) => limits[i] as number, {}, limits.length, count);
  await count();
  // Let the background work of the last page (the cap's KV write) finish.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { calls, ids: walk.ids };
}

describe("a silent page-size cap, remembered", () => {
  it("a later walk by the same credential reads blocks of the cap from its first page; a raised cap is noticed", async () => {
    await resetSimulators(); // Inkit caps silently at 100
    // A first walk whose first block (100) does not reveal the cap, then a page that asks 500 and learns it.
    const first = await callsPerPage([7, 233]);
    // Page 2 asks page 1 at size 500 (served 100: the cap), then blocks 2 and 3 of 100.
    expect(first.calls).toEqual([1, 3]);
    const stored = await env.CACHE.list({ prefix: "c1:inkit:" });
    expect(stored.keys.map((k) => k.name.endsWith(":inkit:runs"))).toEqual([true]);

    // The same walk again, cold listing cache: page 1's block 1 (size 100) is the cap's block, so page 2 only
    // reads blocks 2 and 3.
    const second = await callsPerPage([7, 233]);
    expect(second.calls).toEqual([1, 2]);
    expect(second.ids).toEqual(first.ids);

    // The upstream stops capping: a first block asked at 500 is served whole, and the remembered cap is dropped.
    await inkitSim.settings({ page_size_cap: null });
    const raised = await callsPerPage([233]);
    expect(raised.calls).toEqual([1]);
    expect((await env.CACHE.list({ prefix: "c1:inkit:" })).keys).toEqual([]);
    const after = await callsPerPage([7, 233]);
    expect(after.calls).toEqual([1, 1]);
    expect(after.ids).toEqual(first.ids);
  });

  it("a smaller cap replaces a remembered one at once", async () => {
    await resetSimulators();
    await callsPerPage([7, 233]); // learns 100
    await inkitSim.settings({ page_size_cap: 20 });
    const capped = await callsPerPage([50, 50]);
    // Page 1 asks block 1 at 100 (served 20: learned), then blocks of 20 up to item 51; page 2 the next two.
    expect(capped.calls[0]).toBe(3);
    expect(capped.ids).toHaveLength(100);
    const stored = await env.CACHE.list({ prefix: "c1:inkit:" });
    expect(await Promise.all(stored.keys.map((k) => env.CACHE.get(k.name)))).toEqual(["20"]);
  });
});
