import { beforeEach, describe, expect, it } from "vitest";
import { recordingDataset } from "../support/analytics";
import { captureLogs } from "../support/hardening";
import { inkitSim, resetSimulators } from "../support/simulator";
import { createHookEndpoint, resetWebhookStore, runCron, webhookEnv } from "../support/webhooks";

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe("change detection reports each tick", () => {
  it("a tick: one point and one line with the sources it sent; each check: one point and one line with its figures", async () => {
    const ds = recordingDataset();
    const w = webhookEnv({ ANALYTICS: ds.binding, LOG_LEVEL: "info" });
    await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w); // the baseline
    ds.take();
    await inkitSim.insert({ kind: "run", count: 3, status: "Pending" });
    await inkitSim.clearCounters();

    const { lines } = await captureLogs(() => runCron(w));
    const upstreamCalls = (await inkitSim.counters()).total;
    const points = ds.take();

    const ticks = points.filter((p) => p.kind === "tick");
    expect(ticks).toEqual([expect.objectContaining({ route: "detection", sources: 1 })]);
    const logged = parsed(lines);
    expect(logged.filter((l) => l.msg === "change detection tick")).toEqual([
      expect.objectContaining({ level: "info", sources: 1, deliveries_resent: 0 }),
    ]);

    const checks = points.filter((p) => p.kind === "check");
    expect(checks).toHaveLength(1);
    const [check] = checks;
    const calls = points.filter((p) => p.kind === "upstream");
    expect(calls).toHaveLength(upstreamCalls);
    expect(calls.every((p) => p.route === "detection" && p.listing === "inkit:runs" && p.cache === "bypass")).toBe(
      true,
    );
    expect(check).toMatchObject({
      index: "inkit:runs",
      provider: "inkit",
      listing: "inkit:runs",
      statusClass: "checked",
      items: 3,
      calls: upstreamCalls,
      backlog: 0,
      sources: 1,
      dropped: 0,
    });
    // Three runs created, each subscribed once: three `run.created` events; all three are open, so watched.
    expect(check?.events).toBe(3);
    expect(check?.watched).toBeGreaterThanOrEqual(3);

    const lines_ = logged.filter((l) => l.msg === "change detection");
    expect(lines_).toEqual([
      expect.objectContaining({
        source: "inkit:runs",
        outcome: "checked",
        created: 3,
        events: 3,
        calls: upstreamCalls,
        backlog: false,
        watched: check?.watched,
        more_open: false,
        points_written: upstreamCalls + 1,
        points_dropped: 0,
      }),
    ]);
  });

  it("a quiet check reports too: its calls, no events, no backlog", async () => {
    const ds = recordingDataset();
    const w = webhookEnv({ ANALYTICS: ds.binding, LOG_LEVEL: "info" });
    await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    ds.take();
    const { lines } = await captureLogs(() => runCron(w));
    const [check] = ds.take().filter((p) => p.kind === "check");
    expect(check).toMatchObject({ statusClass: "checked", events: 0, items: 0, backlog: 0 });
    expect(check?.calls).toBeGreaterThan(0);
    expect(check?.calls).toBeLessThanOrEqual(3);
    expect(parsed(lines).filter((l) => l.msg === "change detection")).toHaveLength(1);
  });
});
