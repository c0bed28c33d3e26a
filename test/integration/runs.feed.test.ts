import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import { mergeTruth, normalizeTimestamp, type TruthItem } from "../support/truth";
import { type PageBody, walkForward } from "../support/walk";
import { call, callJson } from "../support/worker";

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const orders = `8x8:acme-ops/${defs.orderNotifications}`;
const noCache = { headers: { "Cache-Control": "no-cache" } };

type Truth = TruthItem & { status: string };

// The documented status mappings, written out here rather than imported, so a wrong table fails a test.
const inkitRunStatus = (s: string) =>
  ({ Completed: "completed", "In Progress": "running", Failed: "failed", Pending: "pending" })[s] ?? "unknown";
const eightByEightStatus = (s: string) =>
  ({ Complete: "completed", Runnable: "running", Suspended: "suspended", Terminated: "terminated" })[s] ?? "unknown";

/** A provider's items in the feed's documented order (one provider: created_at, then id, newest first). */
const sorted = (items: Truth[]) => mergeTruth([items]) as Truth[];

async function inkitTruth(): Promise<Truth[]> {
  const { items } = await inkitSim.items<{ id: string; created_at: string; status: string }>({ kind: "run" });
  return sorted(
    items.map((i) => ({
      id: i.id,
      created_at: normalizeTimestamp(i.created_at),
      provider: "inkit",
      status: inkitRunStatus(i.status),
    })),
  );
}

async function ordersTruth(): Promise<Truth[]> {
  const { items } = await eightByEightSim.items<{ workflowId: string; startedAt: string; status: string }>({
    definitionId: defs.orderNotifications,
    version: "2",
  });
  return sorted(
    items.map((i) => ({
      id: i.workflowId,
      created_at: normalizeTimestamp(i.startedAt),
      provider: "8x8",
      status: eightByEightStatus(i.status),
    })),
  );
}

beforeEach(resetSimulators);

describe("GET /v1/runs", () => {
  it("defaults to DEFAULT_SOURCES and walks the merged truth newest first; total is null when a source has none", async () => {
    const expected = mergeTruth([await inkitTruth(), await ordersTruth()]).map((i) => i.id);
    const walk = await walkForward("/v1/runs", 500);
    expect(walk.ids).toEqual(expected);
    expect(walk.pages[0]?.page.total).toBeNull();
  });

  it("total is the sum when every source knows its total", async () => {
    const { body } = await callJson<PageBody>("/v1/runs?source=inkit&limit=5");
    expect(body.page.total).toBe(3000);
  });

  it("status is applied by 8x8 where it can and by the facade elsewhere; pages stay full", async () => {
    const expected = mergeTruth([await inkitTruth(), await ordersTruth()])
      .filter((i) => (i as Truth).status === "completed")
      .map((i) => i.id);
    expect(expected.length).toBeGreaterThan(500);
    const walk = await walkForward(`/v1/runs?source=inkit&source=${orders}&status=completed`, 97);
    expect(walk.ids).toEqual(expected);
    for (const p of walk.pages)
      for (const run of p.data as unknown as { status: string }[]) expect(run.status).toBe("completed");
  });

  it("a status 8x8 never reports makes its lane empty: no 8x8 call at all", async () => {
    await eightByEightSim.clearCounters();
    const walk = await walkForward(`/v1/runs?source=inkit&source=${orders}&status=failed`, 200, noCache);
    const expected = (await inkitTruth()).filter((i) => i.status === "failed").map((i) => i.id);
    expect(walk.ids).toEqual(expected);
    expect((await eightByEightSim.counters()).total).toBe(0);
  });

  it("created_after and created_before bound the feed exclusively, on every source", async () => {
    const all = mergeTruth([await inkitTruth(), await ordersTruth()]);
    const before = all[200]?.created_at as string;
    const after = all[900]?.created_at as string;
    const expected = all.filter((i) => i.created_at > after && i.created_at < before).map((i) => i.id);
    const walk = await walkForward(
      `/v1/runs?source=inkit&source=${orders}&created_after=${after}&created_before=${before}`,
      64,
    );
    expect(walk.ids).toEqual(expected);
  });

  it("a failing source is a 502 naming it; with partial=true the others are served and it is named in page.errors", async () => {
    await eightByEightSim.fault({ status: 503 });
    const problem = await expectProblem(
      await call(`/v1/runs?source=inkit&source=${orders}`, noCache),
      502,
      "upstream-error",
    );
    expect(problem.source).toBe(orders);
    expect(problem.upstream).toMatchObject({ provider: "8x8", status: 503 });

    const { res, body } = await callJson<PageBody & { page: { errors: { source: string }[] } }>(
      `/v1/runs?source=inkit&source=${orders}&partial=true&limit=10`,
      noCache,
    );
    expect(res.status).toBe(200);
    expect(body.page.errors).toEqual([
      { source: orders, status: 502, type: "upstream-error", detail: expect.any(String) },
    ]);
    expect(body.data.map((r) => r.id)).toEqual((await inkitTruth()).slice(0, 10).map((i) => i.id));

    // The failed source kept its place: once it recovers, following the cursor returns every run exactly once.
    await eightByEightSim.clearFaults();
    const seen = body.data.map((r) => r.id);
    let cursor = body.page.next_cursor;
    while (cursor) {
      const next = await callJson<PageBody>(`/v1/runs?cursor=${encodeURIComponent(cursor)}&limit=500&partial=true`);
      expect(next.body.page).not.toHaveProperty("errors");
      seen.push(...next.body.data.map((r) => r.id));
      cursor = next.body.page.next_cursor;
    }
    const all = mergeTruth([await inkitTruth(), await ordersTruth()]).map((i) => i.id);
    expect(seen.length).toBe(all.length);
    expect(new Set(seen)).toEqual(new Set(all));
  });

  it("rejects malformed sources and unknown parameters, naming them", async () => {
    const bad = await expectProblem(
      await call("/v1/runs?source=zapier&source=8x8:acme/not-a-uuid"),
      400,
      "validation-error",
    );
    expect(bad.errors?.every((e) => e.name.startsWith("source"))).toBe(true);
    const unknown = await expectProblem(await call("/v1/runs?provider=inkit"), 400, "validation-error");
    expect(unknown.errors).toEqual([{ in: "query", name: "provider", message: "Unknown parameter." }]);
  });

  it("the cursor carries the sources: changing them mid-walk is a 400", async () => {
    const { body } = await callJson<PageBody>(`/v1/runs?source=inkit&limit=5`);
    const problem = await expectProblem(
      await call(`/v1/runs?source=${orders}&cursor=${encodeURIComponent(body.page.next_cursor as string)}`),
      400,
      "invalid-cursor",
    );
    expect(problem.errors?.[0]?.name).toBe("source");
  });
});
