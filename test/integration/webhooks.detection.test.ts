import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { checkSource } from "../../src/detection/check";
import { sourceDeps } from "../../src/detection/sources";
import { BatchSchema } from "../../src/schemas/batch";
import { RunSchema } from "../../src/schemas/run";
import { TEST_API_KEY_2 } from "../setup/bindings";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import {
  callAppJson,
  consumer,
  createHookEndpoint,
  drain,
  expectAllVerified,
  payloadOf,
  type ReceivedDelivery,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

const DEFINITION = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.appointmentReminders;
const EIGHT_BY_EIGHT_SOURCE = `8x8:acme-ops/${DEFINITION}`;

interface EventRow {
  id: string;
  tenant: string;
  type: string;
  source: string;
  object_id: string;
  payload: string;
}

const eventsOf = (_w: WebhookEnv) => rows<EventRow>("SELECT * FROM events ORDER BY id");
const typesOf = (events: EventRow[]) => events.map((e) => `${e.type} ${e.object_id}`);

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

describe("change detection (scheduled handler)", () => {
  it("the first tick sets a baseline without events; later ticks report new runs and status changes", async () => {
    const w = webhookEnv();
    const { hook } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    expect(await eventsOf(w)).toEqual([]);
    expect(w.queue.sent).toEqual([]);
    // The baseline: the newest run's instant is the frontier; the open runs it read are watched.
    const { items: newest } = await inkitSim.items<{ id: string; created_at: string; status: string }>({ kind: "run" });
    const [state] = await rows<{ frontier_at: string; frontier_ids: string }>("SELECT * FROM detection_state");
    expect(state?.frontier_at).toBe(newest[0]?.created_at.replace(/Z$/, "Z"));
    const headGroup = newest.filter((r) => r.created_at === newest[0]?.created_at).map((r) => r.id);
    expect(JSON.parse(state?.frontier_ids ?? "[]").sort()).toEqual(headGroup.sort());
    const openAtHead = newest.slice(0, 100).filter((r) => r.status === "In Progress" || r.status === "Pending");
    expect((await rows<{ n: number }>("SELECT COUNT(*) AS n FROM watched_items"))[0]?.n).toBe(openAtHead.length);

    const { items: added } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 2, status: "Pending" });
    const { items: existing } = await inkitSim.items<{ id: string; status: string }>({ kind: "run" });
    const changed = existing.find((r) => r.status === "In Progress" && !added.some((a) => a.id === r.id));
    await inkitSim.setStatus({ id: changed?.id, status: "Completed" });
    await runCron(w);

    const events = await eventsOf(w);
    expect(typesOf(events).sort()).toEqual(
      [
        `run.created ${added[0]?.id}`,
        `run.created ${added[1]?.id}`,
        `run.status_changed ${changed?.id}`,
        `run.completed ${changed?.id}`,
      ].sort(),
    );
    const statusChange = events.find((e) => e.type === "run.status_changed");
    const payload = JSON.parse(statusChange?.payload ?? "{}");
    expect(Object.keys(payload)).toEqual(["type", "timestamp", "sequence", "data"]);
    expect(payload.data.previous).toEqual({ status: "running", provider_status: "In Progress" });
    expect(RunSchema.parse(payload.data.object)).toMatchObject({ id: changed?.id, status: "completed" });
    expect(payload.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    for (const e of events.filter((e) => e.type === "run.created")) {
      expect(JSON.parse(e.payload).data).toMatchObject({ previous: null, object: { status: "pending" } });
    }

    await drain(w);
    const received = await consumer.received(hook);
    expectAllVerified(received);
    expect(new Set(received.map((r) => r.headers["webhook-id"]))).toEqual(new Set(events.map((e) => e.id)));

    // Nothing changed since: a further tick reports nothing.
    await runCron(w);
    expect((await eventsOf(w)).length).toBe(events.length);
  });

  it("a run created already finished also gets its terminal event; a failure is run.failed", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 1, status: "Failed" });
    await runCron(w);
    expect(typesOf(await eventsOf(w)).sort()).toEqual([`run.created ${items[0]?.id}`, `run.failed ${items[0]?.id}`]);
  });

  it("watches Inkit batches: a status change to Completed is batch.status_changed and batch.completed", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: ["inkit:workflow-batches", "inkit:batches"] });
    await runCron(w);
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "document_batch", count: 1 });
    await runCron(w);
    await inkitSim.setStatus({ id: items[0]?.id, status: "Completed" });
    await runCron(w);
    const events = await eventsOf(w);
    expect(typesOf(events)).toEqual([
      `batch.created ${items[0]?.id}`,
      `batch.status_changed ${items[0]?.id}`,
      `batch.completed ${items[0]?.id}`,
    ]);
    expect(events.every((e) => e.source === "inkit:batches")).toBe(true);
    const completed = JSON.parse(events[2]?.payload ?? "{}");
    expect(BatchSchema.parse(completed.data.object)).toMatchObject({ kind: "document_batch", status: "completed" });
    expect(completed.data.previous).toEqual({ status: "in_progress", provider_status: "In Progress" });
  });

  it("watches an 8x8 definition through the same Source as its list route", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: [EIGHT_BY_EIGHT_SOURCE] });
    await runCron(w);
    const { items } = await eightByEightSim.insert<{ workflowId: string }>({ definitionId: DEFINITION, count: 1 });
    const id = items[0]?.workflowId;
    await runCron(w);
    await eightByEightSim.setStatus({ workflowId: id, status: "Complete" });
    await runCron(w);
    const events = await eventsOf(w);
    expect(typesOf(events)).toEqual([`run.created ${id}`, `run.status_changed ${id}`, `run.completed ${id}`]);
    expect(events.every((e) => e.source === EIGHT_BY_EIGHT_SOURCE)).toBe(true);
    const last = JSON.parse(events[2]?.payload ?? "{}");
    expect(RunSchema.parse(last.data.object)).toMatchObject({ provider: "8x8", status: "completed" });
    expect(last.data.previous).toEqual({ status: "running", provider_status: "Runnable" });
  });

  it("checks only the sources an enabled endpoint watches; a baseline reads one page of the newest items", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: ["inkit:workflow-batches"] });
    const { endpoint: disabled } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await callAppJson(w, `/v1/webhook-endpoints/${disabled.id}`, { method: "PATCH", json: { enabled: false } });
    await inkitSim.clearCounters();
    await eightByEightSim.clearCounters();
    await runCron(w);
    // The baseline of the one watched source: one page from its head (its newest instant becomes the frontier) and
    // the top of its updated_at order (where the next check's scan of changes stops); no call for the disabled
    // endpoint's source or for 8x8.
    expect((await inkitSim.counters()).routes).toEqual({ "GET /v1/invoke/batch": 2 });
    expect((await eightByEightSim.counters()).total).toBe(0);
    expect(await rows("SELECT source FROM detection_state")).toEqual([{ source: "inkit:workflow-batches" }]);
  });

  it("filters by event type, fans out per tenant, and keeps each tenant's log to itself", async () => {
    const w = webhookEnv();
    const a = await createHookEndpoint(w, { sources: ["inkit:runs"], event_types: ["run.completed"] });
    const b = await createHookEndpoint(w, { sources: ["inkit:runs"] }, TEST_API_KEY_2);
    await runCron(w);
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 1 });
    await runCron(w);
    await inkitSim.setStatus({ id: items[0]?.id, status: "Completed" });
    await runCron(w);
    await drain(w);

    // Deliveries are concurrent and at-least-once, not ordered: consumers order by event id, which is time-ordered.
    const inEventOrder = (received: ReceivedDelivery[]) =>
      [...received].sort((x, y) => ((x.headers["webhook-id"] ?? "") < (y.headers["webhook-id"] ?? "") ? -1 : 1));
    const receivedA = inEventOrder(await consumer.received(a.hook))
      .map(payloadOf)
      .map((p) => p.type);
    const receivedB = inEventOrder(await consumer.received(b.hook))
      .map(payloadOf)
      .map((p) => p.type);
    expect(receivedA).toEqual(["run.completed"]);
    expect(receivedB).toEqual(["run.created", "run.status_changed", "run.completed"]);
    expectAllVerified(await consumer.received(a.hook));
    expectAllVerified(await consumer.received(b.hook));

    const logA = await callAppJson<{ data: { id: string; type: string }[] }>(w, "/v1/events");
    const logB = await callAppJson<{ data: { id: string; type: string }[] }>(w, "/v1/events", { auth: TEST_API_KEY_2 });
    expect(logA.body.data.map((e) => e.type)).toEqual(["run.completed"]);
    expect(logB.body.data.map((e) => e.type)).toEqual(["run.completed", "run.status_changed", "run.created"]);
    expect(logA.body.data[0]?.id).not.toBe(logB.body.data[0]?.id);
    const bySource = await callAppJson<{ data: unknown[] }>(w, "/v1/events?source=inkit:batches", {
      auth: TEST_API_KEY_2,
    });
    expect(bySource.body.data).toEqual([]);
  });

  it("concurrent checks of one source record each change once", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    await inkitSim.insert({ kind: "run", count: 3 });
    const deps = sourceDeps(w.env, () => {});
    const results = await Promise.all([1, 2, 3].map(() => checkSource(w.env, deps, "inkit:runs")));
    expect(results.reduce((n, r) => n + r.events, 0)).toBe(3);
    expect((await eventsOf(w)).length).toBe(3);
    expect(w.queue.sent.length).toBe(3);
  });

  it("a failing upstream spoils no other source, and the next tick catches up", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: ["inkit:runs", EIGHT_BY_EIGHT_SOURCE] });
    await runCron(w);
    await inkitSim.insert({ kind: "run", count: 1 });
    const { items } = await eightByEightSim.insert<{ workflowId: string }>({ definitionId: DEFINITION, count: 1 });
    await inkitSim.fault({ route: "/v1/invoke", status: 500 });
    await runCron(w);
    expect(typesOf(await eventsOf(w))).toEqual([`run.created ${items[0]?.workflowId}`]);
    await inkitSim.clearFaults();
    await runCron(w);
    expect((await eventsOf(w)).map((e) => e.source).sort()).toEqual([EIGHT_BY_EIGHT_SOURCE, "inkit:runs"].sort());
  });

  it("a source no enabled endpoint watches is forgotten; watching it again starts from a new baseline", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    await callAppJson(w, `/v1/webhook-endpoints/${endpoint.id}`, { method: "PATCH", json: { enabled: false } });
    await runCron(w);
    expect(await rows("SELECT * FROM detection_state")).toEqual([]);
    expect(await rows("SELECT * FROM watched_items")).toEqual([]);
    await inkitSim.insert({ kind: "run", count: 2 });
    await callAppJson(w, `/v1/webhook-endpoints/${endpoint.id}`, { method: "PATCH", json: { enabled: true } });
    await runCron(w);
    expect(await eventsOf(w)).toEqual([]);
  });
});
