import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { startFresh } from "../support/fresh-state";
import { inkitSim } from "../support/simulator";
import { testDatabases } from "../support/storage";
import { resetWebhookStore } from "../support/webhooks";
import { callJson } from "../support/worker";

// Files share a runtime (test/setup/fresh-file.ts): what one leaves behind must not reach the next.

const tables = async (db: D1Database) =>
  (
    await db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
      )
      .all()
  ).results;

describe("startFresh: what a file leaves behind, the next does not see", () => {
  it("data, faults and counters, the listing cache, the breakers, the databases, a fake clock and mocks", async () => {
    const startUp = await inkitSim.getSettings();
    // A cached page: the next identical request is answered from memory, without an upstream call.
    const first = await callJson<{ data: { id: string }[] }>("/v1/inkit/runs?limit=3");
    await inkitSim.clearCounters();
    expect((await callJson("/v1/inkit/runs?limit=3")).res.status).toBe(200);
    expect((await inkitSim.counters()).total).toBe(0);
    // Upstream trouble until the breaker opens (CIRCUIT_BREAKER_THRESHOLD failed requests): then it answers without
    // calling.
    await inkitSim.fault({ status: 500 });
    for (let i = 0; i < Number(env.CIRCUIT_BREAKER_THRESHOLD); i++)
      await callJson("/v1/inkit/runs?limit=3", { headers: { "Cache-Control": "no-cache" } });
    const calls = (await inkitSim.counters()).total;
    const open = await callJson<{ type: string }>("/v1/inkit/runs?limit=3", {
      headers: { "Cache-Control": "no-cache" },
    });
    expect(open.body.type).toMatch(/upstream-unavailable$/);
    expect((await inkitSim.counters()).total).toBe(calls);
    // Data, settings, stored rows, migrated databases, a frozen clock.
    await inkitSim.insert({ kind: "run", count: 5 });
    await inkitSim.settings({ tie_order: startUp.tie_order === "window" ? "hidden" : "window", page_size_cap: 7 });
    await resetWebhookStore();
    for (const db of testDatabases()) await db.prepare("CREATE TABLE IF NOT EXISTS left_behind (x)").run();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(0);
    vi.spyOn(crypto, "randomUUID").mockReturnValue("00000000-0000-4000-8000-000000000000");

    await startFresh();

    expect(Date.now()).toBeGreaterThan(Date.UTC(2026, 0, 1));
    expect(vi.isMockFunction(crypto.randomUUID)).toBe(false);
    expect((await env.CACHE.list()).keys).toEqual([]);
    for (const db of testDatabases()) expect(await tables(db)).toEqual([]);
    expect(await inkitSim.getSettings()).toEqual(startUp);
    expect((await inkitSim.faults()).faults).toEqual([]);
    expect((await inkitSim.counters()).total).toBe(0);
    // The breaker is closed and the cache forgotten: the same request goes upstream and finds the seeded data.
    const again = await callJson<{ data: { id: string }[] }>("/v1/inkit/runs?limit=3");
    expect(again.res.status).toBe(200);
    expect(again.body.data).toEqual(first.body.data);
    expect((await inkitSim.counters()).total).toBeGreaterThan(0);
  });
});
