// An organisation's worth of watched sources: each tick checks every one, each in an invocation of its own, within
// Workers' per-invocation limits; and only the sources that changed produce events.
import { beforeAll, describe, expect, it } from "vitest";
import { configOf } from "../../src/config";
import { eightByEightSim, resetSimulators } from "../support/simulator";
import { createHookEndpoint, resetWebhookStore, rows, runCron, webhookEnv } from "../support/webhooks";

const SOURCES = 100;

describe(`${SOURCES} watched sources`, () => {
  const w = webhookEnv();
  let sources: string[] = [];
  let definitions: string[] = [];

  beforeAll(async () => {
    await resetWebhookStore();
    await resetSimulators();
    const existing = (await eightByEightSim.getDefinitions()).definitions.map((d) => d.id);
    const { definitions: added } = await eightByEightSim.addDefinitions({ count: SOURCES - 3 - existing.length });
    definitions = [...existing, ...added.map((d) => d.id)];
    sources = ["inkit:runs", "inkit:workflow-batches", "inkit:batches", ...definitions.map((d) => `8x8:acme-ops/${d}`)];
    expect(sources).toHaveLength(SOURCES);
    // Endpoints watch at most 50 sources each.
    for (let i = 0; i < sources.length; i += 50) await createHookEndpoint(w, { sources: sources.slice(i, i + 50) });
  });

  it("every tick sends one check per source and makes no upstream call itself; every check stays in its budget", async () => {
    await eightByEightSim.clearCounters();
    const before = w.detection.sent.length;
    const checks = await runCron(w, { follow: false });
    const sent = w.detection.sent.slice(before).map((m) => m.body.source);
    expect([...sent].sort()).toEqual([...sources].sort());
    expect(checks).toBe(SOURCES);
    const budget = configOf(w.env).webhookCheckCalls;
    const done = await rows<{ source: string; calls: number }>("SELECT source, calls FROM detection_checks");
    expect(done).toHaveLength(SOURCES);
    expect(Math.max(...done.map((c) => c.calls))).toBeLessThanOrEqual(budget);
    // The baselines' calls are all the checks' calls: the tick itself read nothing upstream.
    const eightByEight = done.filter((c) => c.source.startsWith("8x8:")).reduce((n, c) => n + c.calls, 0);
    expect((await eightByEightSim.counters()).total).toBe(eightByEight);
  });

  it("a quiet tick of all of them costs at most 3 calls per source; a change in 10 of them is reported for those 10", async () => {
    await runCron(w);
    const quiet = await rows<{ calls: number }>(
      "SELECT calls FROM detection_checks WHERE version = (SELECT MAX(version) FROM detection_checks c WHERE c.source = detection_checks.source)",
    );
    expect(quiet).toHaveLength(SOURCES);
    expect(Math.max(...quiet.map((c) => c.calls))).toBeLessThanOrEqual(3);

    const changed = definitions.slice(-10);
    for (const definitionId of changed) await eightByEightSim.insert({ definitionId, count: 3, tie_head: false });
    await runCron(w);
    const events = await rows<{ source: string; n: number }>(
      "SELECT source, COUNT(*) AS n FROM events WHERE type = 'run.created' GROUP BY source ORDER BY source",
    );
    expect(events).toEqual(
      changed.map((d) => ({ source: `8x8:acme-ops/${d}`, n: 3 })).sort((a, b) => (a.source < b.source ? -1 : 1)),
    );
  });
});
