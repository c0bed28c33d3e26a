// Items that change after detection recorded them terminal: a scan that is read anyway (Inkit's `updated_at` order,
// 8x8's open lists) shows them with another status, and that is an event like any other, with the recorded status as
// `previous`. Upstream call counts are deterministic: a quiet check costs as many calls before such a change as after.
import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import {
  consumer,
  createHookEndpoint,
  drain,
  expectAllVerified,
  payloadOf,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

const EIGHT_BY_EIGHT_SOURCE = `8x8:acme-ops/${EIGHT_BY_EIGHT_DEFINITION_IDS.demo.appointmentReminders}`;

interface LoggedEvent {
  type: string;
  object_id: string;
  sequence: number;
  payload: string;
}

const logged = (source: string) =>
  rows<LoggedEvent>("SELECT type, object_id, sequence, payload FROM events WHERE source = ? ORDER BY sequence", source);

const lastCheck = async (source: string) =>
  (
    await rows<{ calls: number; events: number }>(
      "SELECT calls, events FROM detection_checks WHERE source = ? ORDER BY version DESC LIMIT 1",
      source,
    )
  )[0];

const watchRowOf = async (source: string, id: string) =>
  (
    await rows<{ status: string; provider_status: string; open: number }>(
      "SELECT status, provider_status, open FROM watched_items WHERE source = ? AND item_id = ?",
      source,
      id,
    )
  )[0];

const described = (events: LoggedEvent[]) => events.map((e) => `${e.type} ${e.object_id}`);
const previousOf = (e: LoggedEvent | undefined) => JSON.parse(e?.payload ?? "{}").data.previous;

/** One cron tick, and the upstream calls the simulator served during it. */
async function tick(w: WebhookEnv, sim: typeof inkitSim) {
  await sim.clearCounters();
  await runCron(w);
  return (await sim.counters()).total;
}

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

describe("inkit:runs: a run seen terminal that shows another status later", () => {
  const source = "inkit:runs";

  /** One run announced, then seen Completed: its watch is closed. */
  async function completedRun() {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: [source] });
    await runCron(w);
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 1, tie_head: false });
    const id = items[0]?.id as string;
    await runCron(w);
    await inkitSim.setStatus({ id, status: "Completed" });
    await runCron(w);
    return { w, id, before: await logged(source) };
  }

  it.each([
    ["the newest run: it stays at the top of the updated_at order", 0],
    ["a run among the last scan's first ones, below the top", 2],
  ])("%s: Completed, then Failed, is one run.status_changed and one run.failed", async (_, which) => {
    const w = webhookEnv();
    const { hook } = await createHookEndpoint(w, { sources: [source] });
    await runCron(w);
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 3, tie_head: false });
    await runCron(w);
    // Completed oldest first: the last one completed leads the updated_at order.
    const completedOrder = items.map((i) => i.id).reverse();
    for (const id of completedOrder) await inkitSim.setStatus({ id, status: "Completed" });
    await runCron(w);
    const before = await logged(source);
    expect(described(before).filter((d) => d.startsWith("run.completed")).length).toBe(3);
    const quiet = await tick(w, inkitSim);
    expect(await logged(source)).toHaveLength(before.length);
    expect((await lastCheck(source))?.calls).toBe(quiet);

    const id = completedOrder.at(-1 - which) as string;
    expect(await watchRowOf(source, id)).toEqual({ status: "completed", provider_status: "Completed", open: 0 });
    await inkitSim.setStatus({ id, status: "Failed" });
    await runCron(w);
    await runCron(w);

    const after = (await logged(source)).slice(before.length);
    expect(described(after)).toEqual([`run.status_changed ${id}`, `run.failed ${id}`]);
    expect(previousOf(after[0])).toEqual({ status: "completed", provider_status: "Completed" });
    expect(JSON.parse(after[1]?.payload ?? "{}").data.object).toMatchObject({ id, status: "failed" });
    const last = before.at(-1)?.sequence ?? 0;
    expect(after.map((e) => e.sequence)).toEqual([last + 1, last + 2]);
    expect(await watchRowOf(source, id)).toEqual({ status: "failed", provider_status: "Failed", open: 0 });

    // The webhook consumer gets them, after everything before.
    await drain(w);
    const received = (await consumer.received(hook)).map(payloadOf);
    expectAllVerified(await consumer.received(hook));
    const mine = received.filter((p) => p.data.object.id === id).sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
    expect(mine.map((p) => p.type)).toEqual([
      "run.created",
      "run.status_changed",
      "run.completed",
      "run.status_changed",
      "run.failed",
    ]);

    // A quiet check after that: no event, and the same upstream calls as a quiet check before.
    expect(await tick(w, inkitSim)).toBe(quiet);
    expect(await logged(source)).toHaveLength(before.length + 2);
    expect(await lastCheck(source)).toEqual({ calls: quiet, events: 0 });
  });

  it("one that changes below a burst: the scan reads through it over two ticks, going on where it stopped", async () => {
    const { w, id, before } = await completedRun();
    expect(await watchRowOf(source, id)).toMatchObject({ status: "completed", open: 0 });

    // A closed watch is not read directly: only the scan of the updated_at order can show its change, and 450 new
    // runs sit above it there. The check that takes 200 of them reads 3 pages of that order, not the 5 that reach it.
    await inkitSim.setStatus({ id, status: "Failed" });
    await inkitSim.insert({ kind: "run", count: 450, status: "In Progress" });
    const scanPages: number[] = [];
    let after: LoggedEvent[] = [];
    for (let ticks = 0; ticks < 5 && after.length === 0; ticks++) {
      await inkitSim.clearCounters();
      await runCron(w);
      scanPages.push((await inkitSim.requests()).filter((line) => line.includes("sort=-updated_at")).length);
      after = (await logged(source)).slice(before.length).filter((e) => e.object_id === id);
    }
    // The second tick's scan: the top down to the first one's marks, then on from where the first one stopped.
    expect(scanPages).toEqual([3, 3]);
    expect(described(after)).toEqual([`run.status_changed ${id}`, `run.failed ${id}`]);
    expect(previousOf(after[0])).toEqual({ status: "completed", provider_status: "Completed" });
    // A quiet tick after that reports nothing more for it, and its scan reads the top only.
    await inkitSim.clearCounters();
    await runCron(w);
    expect((await logged(source)).slice(before.length).filter((e) => e.object_id === id)).toHaveLength(2);
    expect((await inkitSim.requests()).filter((line) => line.includes("sort=-updated_at"))).toHaveLength(1);
  });

  it("a run seen completed that is open again is reported and watched again, and its end arrives once more", async () => {
    const { w, id, before } = await completedRun();

    await inkitSim.setStatus({ id, status: "In Progress" });
    await runCron(w);
    const reopened = (await logged(source)).slice(before.length);
    expect(described(reopened)).toEqual([`run.status_changed ${id}`]);
    expect(previousOf(reopened[0])).toEqual({ status: "completed", provider_status: "Completed" });
    expect(await watchRowOf(source, id)).toEqual({ status: "running", provider_status: "In Progress", open: 1 });

    await inkitSim.setStatus({ id, status: "Completed" });
    await runCron(w);
    const ended = (await logged(source)).slice(before.length + 1);
    expect(described(ended)).toEqual([`run.status_changed ${id}`, `run.completed ${id}`]);
    expect(previousOf(ended[0])).toEqual({ status: "running", provider_status: "In Progress" });
  });
});

describe("inkit:batches: a batch seen completed that shows another status later", () => {
  it("is batch.status_changed with the recorded status as previous", async () => {
    const source = "inkit:batches";
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: [source] });
    await runCron(w);
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "document_batch", count: 1, tie_head: false });
    const id = items[0]?.id as string;
    await runCron(w);
    await inkitSim.setStatus({ id, status: "Completed" });
    await runCron(w);
    const before = await logged(source);
    expect(described(before)).toEqual([`batch.created ${id}`, `batch.status_changed ${id}`, `batch.completed ${id}`]);

    await inkitSim.setStatus({ id, status: "Failed" });
    await runCron(w);
    const after = (await logged(source)).slice(before.length);
    expect(described(after)).toEqual([`batch.status_changed ${id}`]);
    expect(previousOf(after[0])).toEqual({ status: "completed", provider_status: "Completed" });
    expect(after[0]?.sequence).toBe((before.at(-1)?.sequence ?? 0) + 1);
  });
});

describe("8x8: an instance seen terminal", () => {
  const source = EIGHT_BY_EIGHT_SOURCE;
  const definitionId = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.appointmentReminders;

  it("that is open again shows on the open lists read anyway: reported, watched again, its end arrives once more", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: [source] });
    await runCron(w);
    const { items } = await eightByEightSim.insert<{ workflowId: string }>({ definitionId, count: 1, tie_head: false });
    const id = items[0]?.workflowId as string;
    await runCron(w);
    await eightByEightSim.setStatus({ workflowId: id, status: "Complete" });
    await runCron(w);
    const before = await logged(source);
    expect(described(before)).toEqual([`run.created ${id}`, `run.status_changed ${id}`, `run.completed ${id}`]);
    const quiet = await tick(w, eightByEightSim);

    await eightByEightSim.setStatus({ workflowId: id, status: "Runnable" });
    expect(await tick(w, eightByEightSim), "no extra call: the Runnable list is read anyway").toBe(quiet);
    const reopened = (await logged(source)).slice(before.length);
    expect(described(reopened)).toEqual([`run.status_changed ${id}`]);
    expect(previousOf(reopened[0])).toEqual({ status: "completed", provider_status: "Complete" });
    expect(reopened[0]?.sequence).toBe((before.at(-1)?.sequence ?? 0) + 1);
    expect(await watchRowOf(source, id)).toEqual({ status: "running", provider_status: "Runnable", open: 1 });

    await eightByEightSim.setStatus({ workflowId: id, status: "Complete" });
    await runCron(w);
    const ended = (await logged(source)).slice(before.length + 1);
    expect(described(ended)).toEqual([`run.status_changed ${id}`, `run.completed ${id}`]);
    expect(previousOf(ended[0])).toEqual({ status: "running", provider_status: "Runnable" });
  });
});
