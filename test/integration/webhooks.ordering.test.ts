import { beforeEach, describe, expect, it } from "vitest";
import { EventOrder } from "../../scripts/event-order";
import { checkSource } from "../../src/detection/check";
import { sourceDeps } from "../../src/detection/sources";
import { EventSchema } from "../../src/schemas/events";
import { TEST_API_KEY_2, TEST_INKIT_WEBHOOK_SECRET } from "../setup/bindings";
import { inkitSim, resetSimulators } from "../support/simulator";
import {
  callAppJson,
  consumeOnce,
  consumer,
  createHookEndpoint,
  drain,
  expectAllVerified,
  hmacHex,
  payloadOf,
  postInkit,
  type ReceivedDelivery,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

// Deliveries are at least once, retried, replayed and concurrent: a consumer can receive an older state after a
// newer one. Every run and batch event carries a per-object, strictly increasing `sequence`; the test consumer keeps
// the highest one applied per object (scripts/event-order.ts, as the demo consumer does) and drops the rest.

interface EventRow {
  id: string;
  tenant: string;
  type: string;
  object_id: string;
  sequence: number | null;
  payload: string;
}

const eventsOf = (objectId: string) => rows<EventRow>("SELECT * FROM events WHERE object_id = ? ORDER BY id", objectId);

/** Inserts a Pending run after a baseline tick, then walks it to In Progress and Completed, one tick each. */
async function lifecycle(w: WebhookEnv, between: () => Promise<void> = async () => {}) {
  await runCron(w);
  const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 1, status: "Pending" });
  const id = items[0]?.id as string;
  await runCron(w);
  await between();
  await inkitSim.setStatus({ id, status: "In Progress" });
  await runCron(w);
  await between();
  await inkitSim.setStatus({ id, status: "Completed" });
  await runCron(w);
  return id;
}

/** The acknowledged deliveries of one object, in arrival order. */
const deliveriesOf = (received: ReceivedDelivery[], objectId: string) =>
  received.filter((r) => r.answered < 300 && payloadOf(r).data.object.id === objectId);

/** What the consumer applied last for an object: the state it holds. */
const heldState = (received: ReceivedDelivery[], objectId: string) =>
  deliveriesOf(received, objectId)
    .filter((r) => r.verdict === "apply")
    .map(payloadOf)
    .at(-1);

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

describe("event sequence", () => {
  it("strictly increases per object in detection order, is the same for every tenant, and is in the event log", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await createHookEndpoint(w, { sources: ["inkit:runs"] }, TEST_API_KEY_2);
    const id = await lifecycle(w);

    const events = await eventsOf(id);
    const tenants = [...new Set(events.map((e) => e.tenant))];
    expect(tenants).toHaveLength(2);
    const perTenant = tenants.map((t) => events.filter((e) => e.tenant === t));
    for (const mine of perTenant) {
      expect(mine.map((e) => e.type)).toEqual([
        "run.created",
        "run.status_changed",
        "run.status_changed",
        "run.completed",
      ]);
      const sequences = mine.map((e) => e.sequence as number);
      for (const [i, s] of sequences.entries()) if (i > 0) expect(s).toBeGreaterThan(sequences[i - 1] as number);
      // The stored payload, which every delivery sends, carries the column's sequence.
      for (const e of mine) expect(JSON.parse(e.payload).sequence).toBe(e.sequence);
    }
    expect(perTenant[0]?.map((e) => e.sequence)).toEqual(perTenant[1]?.map((e) => e.sequence));

    const last = perTenant[0]?.at(-1) as EventRow;
    const { res, body } = await callAppJson<{ sequence: number }>(w, `/v1/events/${last.id}`);
    expect(res.status).toBe(200);
    expect(EventSchema.parse(body).sequence).toBe(last.sequence);
    const ping = await callAppJson<{ event_id: string }>(
      w,
      `/v1/webhook-endpoints/${(await rows<{ id: string }>("SELECT id FROM webhook_endpoints LIMIT 1"))[0]?.id}/test`,
      { method: "POST" },
    );
    const pingEvent = await callAppJson<{ sequence: number | null }>(w, `/v1/events/${ping.body.event_id}`);
    expect(pingEvent.body.sequence).toBeNull();
  });

  it("delivered newest first, one at a time: the consumer applies the newest and drops every older state", async () => {
    const w = webhookEnv();
    const { hook } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    const id = await lifecycle(w);
    const messages = w.queue.take();
    expect(messages).toHaveLength(4);
    for (const m of [...messages].reverse()) await consumeOnce(w, [m]);

    const received = deliveriesOf(await consumer.received(hook), id);
    expectAllVerified(received);
    expect(received.map((r) => payloadOf(r).type)).toEqual([
      "run.completed",
      "run.status_changed",
      "run.status_changed",
      "run.created",
    ]);
    expect(received.map((r) => r.verdict)).toEqual(["apply", "stale", "stale", "stale"]);
    expect(heldState(received, id)?.data.object.status).toBe("completed");
  });

  it("delivered all at once, in any order: the consumer ends on the upstream's current state", async () => {
    const w = webhookEnv();
    const { hook } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    const id = await lifecycle(w);
    const messages = w.queue.take();
    // Interleaved (2nd, 4th, 1st, 3rd) and consumed as one concurrent batch.
    await consumeOnce(
      w,
      [1, 3, 0, 2].map((i) => messages[i] as (typeof messages)[number]),
    );

    const received = deliveriesOf(await consumer.received(hook), id);
    expect(received).toHaveLength(4);
    const applied = received.filter((r) => r.verdict === "apply").map((r) => payloadOf(r).sequence as number);
    for (const [i, s] of applied.entries()) if (i > 0) expect(s).toBeGreaterThan(applied[i - 1] as number);
    const held = heldState(received, id);
    expect(held?.data.object.status).toBe("completed");
    expect(held?.sequence).toBe(Math.max(...received.map((r) => payloadOf(r).sequence as number)));
  });

  it("a retry carries the original sequence; arriving after a newer state it is dropped", async () => {
    const w = webhookEnv();
    const { hook } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 1, status: "Pending" });
    const id = items[0]?.id as string;
    await runCron(w);
    const [created] = w.queue.take();
    await consumer.configure(hook, { fail: { status: 503, times: 1 } });
    await consumeOnce(w, created ? [created] : []); // refused: a retry is scheduled
    const [retry] = w.queue.take();
    expect(retry?.body).toMatchObject({ event_id: created?.body.event_id, attempt: 2 });

    await inkitSim.setStatus({ id, status: "In Progress" });
    await runCron(w);
    await drain(w); // the newer state arrives first
    await consumeOnce(w, retry ? [retry] : []);

    const received = deliveriesOf(await consumer.received(hook), id);
    expect(received.map((r) => [payloadOf(r).type, r.verdict])).toEqual([
      ["run.status_changed", "apply"],
      ["run.created", "stale"],
    ]);
    const all = (await consumer.received(hook)).filter((r) => r.headers["webhook-id"] === created?.body.event_id);
    expect(all.map((r) => r.answered)).toEqual([503, 200]);
    expect(new Set(all.map((r) => payloadOf(r).sequence)).size).toBe(1);
    expect(heldState(received, id)?.data.object.status).toBe("running");
  });

  it("a replay carries the original sequences; replayed newest first, the older states are dropped", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    // Another tenant's endpoint keeps inkit:runs watched while this one is disabled.
    await createHookEndpoint(w, { sources: ["inkit:runs"] }, TEST_API_KEY_2);
    const since = new Date(Date.now() - 1000).toISOString();
    await callAppJson(w, `/v1/webhook-endpoints/${endpoint.id}`, { method: "PATCH", json: { enabled: false } });
    const id = await lifecycle(w);
    await drain(w); // only the other tenant's deliveries
    await callAppJson(w, `/v1/webhook-endpoints/${endpoint.id}`, { method: "PATCH", json: { enabled: true } });

    const { res, body } = await callAppJson<{ event_ids: string[] }>(w, `/v1/webhook-endpoints/${endpoint.id}/replay`, {
      method: "POST",
      json: { since },
    });
    expect(res.status).toBe(202);
    expect(body.event_ids).toHaveLength(4);
    // Replay queues newest first; deliver in that order, one at a time.
    for (const m of w.queue.take()) await consumeOnce(w, [m]);

    const received = deliveriesOf(await consumer.received(hook), id);
    expectAllVerified(received);
    const logged = new Map(
      (await eventsOf(id)).filter((e) => body.event_ids.includes(e.id)).map((e) => [e.id, e.sequence]),
    );
    for (const r of received) expect(payloadOf(r).sequence).toBe(logged.get(r.headers["webhook-id"] as string));
    expect(received.map((r) => r.verdict)).toEqual(["apply", "stale", "stale", "stale"]);
    expect(heldState(received, id)?.data.object.status).toBe("completed");
  });

  it("inbound pushes and cron ticks share one counter: sequences keep increasing across both", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 1, status: "Pending" });
    const id = items[0]?.id as string;
    const push = JSON.stringify({ event_type: "render.created", resource_id: id });
    expect((await postInkit(w, push, await hmacHex(TEST_INKIT_WEBHOOK_SECRET, push))).status).toBe(202);
    await inkitSim.setStatus({ id, status: "Failed" });
    await runCron(w);
    await inkitSim.setStatus({ id, status: "Completed" });
    expect((await postInkit(w, push, await hmacHex(TEST_INKIT_WEBHOOK_SECRET, push))).status).toBe(202);

    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual([
      "run.created",
      "run.status_changed",
      "run.failed",
      "run.status_changed",
      "run.completed",
    ]);
    const sequences = events.map((e) => e.sequence as number);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);
  });

  it("concurrent checks of one source never hand out a sequence twice", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    await inkitSim.insert({ kind: "run", count: 3 });
    const deps = sourceDeps(w.env, () => {});
    await Promise.all([1, 2, 3].map(() => checkSource(w.env, deps, "inkit:runs")));
    await inkitSim.insert({ kind: "run", count: 2 });
    await Promise.all([1, 2].map(() => checkSource(w.env, deps, "inkit:runs")));
    const sequences = (await rows<{ sequence: number }>("SELECT sequence FROM events ORDER BY id")).map(
      (e) => e.sequence,
    );
    expect(sequences).toHaveLength(5);
    expect(new Set(sequences).size).toBe(5);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(await rows("SELECT sequence FROM event_sequences WHERE source = 'inkit:runs'")).toEqual([
      { sequence: Math.max(...sequences) },
    ]);
  });

  it("a source watched again continues above every sequence it sent before", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    await inkitSim.insert({ kind: "run", count: 2 });
    await runCron(w);
    const before = Math.max(
      ...(await rows<{ sequence: number }>("SELECT sequence FROM events")).map((e) => e.sequence),
    );
    // Unwatched: its frontier, watched items and check versions are forgotten; watched again: a new baseline, then new events.
    await callAppJson(w, `/v1/webhook-endpoints/${endpoint.id}`, { method: "PATCH", json: { enabled: false } });
    await runCron(w);
    await callAppJson(w, `/v1/webhook-endpoints/${endpoint.id}`, { method: "PATCH", json: { enabled: true } });
    await runCron(w);
    await inkitSim.insert({ kind: "run", count: 1 });
    await runCron(w);
    const after = await rows<{ sequence: number }>("SELECT sequence FROM events ORDER BY id DESC LIMIT 1");
    expect(after[0]?.sequence).toBeGreaterThan(before);
  });
});

describe("the consumer's ordering (scripts/event-order.ts)", () => {
  const event = (id: string, sequence: number | undefined, provider = "inkit") => ({
    type: "run.status_changed",
    ...(sequence === undefined ? {} : { sequence }),
    data: { object: { id, provider } },
  });

  it("applies only what is above the highest sequence applied for the same object", () => {
    const order = new EventOrder();
    expect(order.accept(event("rend_a", 5))).toBe("apply");
    expect(order.accept(event("rend_a", 5))).toBe("stale"); // a duplicate
    expect(order.accept(event("rend_a", 3))).toBe("stale"); // an older state
    expect(order.accept(event("rend_b", 1))).toBe("apply"); // another object
    expect(order.accept(event("rend_a", 1, "8x8"))).toBe("apply"); // same id, other provider
    expect(order.accept(event("rend_a", 9))).toBe("apply");
    expect(order.applied("inkit:rend_a")).toBe(9);
    expect(order.accept(event("we_ping", undefined))).toBe("apply");
    expect(order.accept(event("we_ping", undefined))).toBe("apply");
  });
});
