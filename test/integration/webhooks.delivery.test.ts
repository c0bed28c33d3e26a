import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_ATTEMPTS, MAX_QUEUE_DELAY_SECONDS, RETRY_DELAYS_SECONDS } from "../../src/delivery/schedule";
import { DeliveryAttemptSchema } from "../../src/schemas/events";
import { TEST_API_KEY_2 } from "../setup/bindings";
import { expectProblem } from "../support/problem";
import { inkitSim, resetSimulators } from "../support/simulator";
import {
  callApp,
  callAppJson,
  consumeOnce,
  consumer,
  createHookEndpoint,
  drain,
  expectAllVerified,
  lapsePacers,
  payloadOf,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

interface Attempt {
  attempt: number;
  status_code: number | null;
  outcome: string;
  error: string | null;
  next_retry_at: string | null;
}

const attemptsOf = async (w: WebhookEnv, eventId: string) => {
  const { res, body } = await callAppJson<{ data: Attempt[] }>(w, `/v1/events/${eventId}/attempts?limit=100`);
  expect(res.status).toBe(200);
  for (const a of body.data) DeliveryAttemptSchema.parse(a);
  return [...body.data].reverse(); // oldest first
};

async function ping(w: WebhookEnv, endpointId: string): Promise<string> {
  const { res, body } = await callAppJson<{ event_id: string }>(w, `/v1/webhook-endpoints/${endpointId}/test`, {
    method: "POST",
  });
  expect(res.status).toBe(202);
  return body.event_id;
}

/** Makes `n` detected events for an endpoint watching inkit:runs: a baseline tick, `n` new runs, a tick. */
async function detectNewRuns(w: WebhookEnv, n: number) {
  await runCron(w);
  const { items } = await inkitSim.insert({ kind: "run", count: n });
  await runCron(w);
  return items.map((i) => i.id);
}

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("delivery", () => {
  it("a ping is signed per Standard Webhooks and verifies with the standardwebhooks package", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w);
    const eventId = await ping(w, endpoint.id);
    expect(w.queue.sent).toEqual([
      { body: { event_id: eventId, endpoint_id: endpoint.id, attempt: 1, generation: 1 }, delaySeconds: 0 },
    ]);
    await consumeOnce(w);

    const received = await consumer.received(hook);
    expectAllVerified(received);
    const [only] = received;
    if (!only) throw new Error("nothing received");
    expect(only.headers["webhook-id"]).toBe(eventId);
    expect(Math.abs(Number(only.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    expect(only.headers["content-type"]).toBe("application/json");
    expect(payloadOf(only)).toMatchObject({
      type: "ping",
      data: { object: { endpoint_id: endpoint.id, url: endpoint.url }, previous: null },
    });
    expect(Object.keys(JSON.parse(only.body))).toEqual(["type", "timestamp", "data"]);

    const attempts = await attemptsOf(w, eventId);
    expect(attempts).toMatchObject([
      { attempt: 1, status_code: 200, outcome: "delivered", error: null, next_retry_at: null },
    ]);
    expect(await rows("SELECT status, attempts FROM deliveries WHERE event_id = ?", eventId)).toEqual([
      { status: "delivered", attempts: 1 },
    ]);
  });

  it("a consumer that fails for a while then recovers receives every event, ids unchanged, nothing lost", async () => {
    const w = webhookEnv();
    const { hook } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    // The next 7 requests fail: every one of the 4 events fails at least once, some several times.
    await consumer.configure(hook, { fail: { status: 500, times: 7 } });
    await detectNewRuns(w, 4);
    const events = await rows<{ id: string; type: string }>("SELECT id, type FROM events ORDER BY id");
    expect(events.map((e) => e.type)).toEqual(["run.created", "run.created", "run.created", "run.created"]);
    const rounds = await drain(w);
    expect(rounds).toBeGreaterThan(2);

    const received = await consumer.received(hook);
    expectAllVerified(received);
    const delivered = received.filter((r) => r.answered === 200).map((r) => r.headers["webhook-id"]);
    expect(new Set(delivered)).toEqual(new Set(events.map((e) => e.id)));
    expect(delivered.length).toBe(events.length);
    // Every attempt of one event carried the same id and the same bytes.
    for (const { id } of events) {
      const bodies = new Set(received.filter((r) => r.headers["webhook-id"] === id).map((r) => r.body));
      expect(bodies.size).toBe(1);
    }
    expect(received.length).toBe(events.length + 7);

    // Retries waited per the schedule: 5 s before attempt 2, 5 min before attempt 3.
    const delays = w.queue.sent.map((m) => [m.body.attempt, m.delaySeconds]);
    for (const [attempt, delay] of delays) expect(delay).toBe(RETRY_DELAYS_SECONDS[(attempt ?? 1) - 1]);
    expect(delays.some(([attempt]) => attempt === 3)).toBe(true);

    for (const { id } of events) {
      const attempts = await attemptsOf(w, id);
      expect(attempts.at(-1)).toMatchObject({ outcome: "delivered", status_code: 200 });
      for (const failed of attempts.slice(0, -1)) {
        expect(failed).toMatchObject({ outcome: "retrying", status_code: 500, error: "HTTP 500" });
        expect(failed.next_retry_at).not.toBeNull();
      }
    }
    expect(await rows("SELECT DISTINCT status FROM deliveries")).toEqual([{ status: "delivered" }]);
  });

  it("429 and 503 honour Retry-After (seconds or an HTTP date) instead of the schedule", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w);
    await consumer.configure(hook, { fail: { status: 429, times: 1, retry_after: "42" } });
    await ping(w, endpoint.id);
    await consumeOnce(w);
    expect(w.queue.sent.at(-1)).toMatchObject({ body: { attempt: 2 }, delaySeconds: 42 });
    // The whole endpoint waits out the Retry-After: a message that comes early is held (same attempt), unsent.
    await consumeOnce(w);
    expect(w.queue.sent.at(-1)?.body.attempt).toBe(2);
    expect(w.queue.sent.at(-1)?.delaySeconds).toBeGreaterThanOrEqual(40);
    expect(w.queue.sent.at(-1)?.delaySeconds).toBeLessThanOrEqual(42);
    expect(await consumer.received(hook)).toHaveLength(1);
    await lapsePacers(w); // the 42 s have passed

    const when = new Date(Date.now() + 90_000).toUTCString();
    await consumer.configure(hook, { fail: { status: 503, times: 1, retry_after: when } });
    await consumeOnce(w);
    const last = w.queue.sent.at(-1);
    expect(last?.body.attempt).toBe(3);
    expect(last?.delaySeconds).toBeGreaterThanOrEqual(88);
    expect(last?.delaySeconds).toBeLessThanOrEqual(91);

    await drain(w);
    const received = await consumer.received(hook);
    expect(received.map((r) => r.answered)).toEqual([429, 503, 200]);
    expectAllVerified(received);
  });

  it("410 Gone disables the endpoint: no retry, its other queued deliveries are dropped, nothing more is sent", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w);
    await consumer.configure(hook, { fail: { status: 410 } });
    const first = await ping(w, endpoint.id);
    await consumeOnce(w);
    expect(w.queue.size).toBe(0);

    const { body } = await callAppJson<{ enabled: boolean; disabled_reason: string }>(
      w,
      `/v1/webhook-endpoints/${endpoint.id}`,
    );
    expect(body).toMatchObject({ enabled: false, disabled_reason: "endpoint_gone" });
    expect(await attemptsOf(w, first)).toMatchObject([{ status_code: 410, outcome: "endpoint_disabled" }]);
    expect(await rows("SELECT status FROM deliveries WHERE event_id = ?", first)).toEqual([{ status: "failed" }]);

    // A ping to a disabled endpoint is refused; a delivery already queued for it is dropped unsent.
    await expectProblem(
      await callApp(w, `/v1/webhook-endpoints/${endpoint.id}/test`, { method: "POST" }),
      400,
      "validation-error",
    );
    await consumeOnce(w, [
      { body: { event_id: first, endpoint_id: endpoint.id, attempt: 2, generation: 1 }, delaySeconds: 0 },
    ]);
    expect((await consumer.received(hook)).length).toBe(1);
  });

  it("replay re-sends what a disabled endpoint missed, with the original event ids, once it is enabled again", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    // Another tenant's endpoint keeps inkit:runs watched (detection polls only sources an enabled endpoint watches).
    await createHookEndpoint(w, { sources: ["inkit:runs"] }, TEST_API_KEY_2);
    const since = new Date(Date.now() - 1000).toISOString();
    await consumer.configure(hook, { fail: { status: 410, times: 1 } });
    await detectNewRuns(w, 2); // the first delivery gets 410: the endpoint is disabled, the second is dropped
    await drain(w);
    const mine =
      "SELECT e.id FROM events e JOIN webhook_endpoints w ON w.tenant = e.tenant WHERE w.id = ? ORDER BY e.id";
    const before = await rows<{ id: string }>(mine, endpoint.id);
    expect(before.length).toBe(2);
    // While disabled: one more run is detected and logged for the endpoint, but not delivered.
    await inkitSim.insert({ kind: "run", count: 1 });
    await runCron(w);
    const events = await rows<{ id: string }>(mine, endpoint.id);
    expect(events.length).toBe(before.length + 1);
    await drain(w); // the other tenant's delivery
    expect(
      await rows("SELECT * FROM deliveries WHERE endpoint_id = ? AND event_id = ?", endpoint.id, events.at(-1)?.id),
    ).toEqual([]);

    await expectProblem(
      await callApp(w, `/v1/webhook-endpoints/${endpoint.id}/replay`, { method: "POST", json: { since } }),
      400,
      "validation-error",
    );
    const enabled = await callApp(w, `/v1/webhook-endpoints/${endpoint.id}`, {
      method: "PATCH",
      json: { enabled: true },
    });
    expect(enabled.status).toBe(200);
    const { res, body } = await callAppJson<{ replayed: number; event_ids: string[] }>(
      w,
      `/v1/webhook-endpoints/${endpoint.id}/replay`,
      { method: "POST", json: { since } },
    );
    expect(res.status).toBe(202);
    // Missed: the 410'd one, and the one logged while disabled (the second of the first batch may have gone
    // out concurrently with the 410, before the endpoint was disabled).
    const gotBefore = new Set(
      (await consumer.received(hook)).filter((r) => r.answered === 200).map((r) => r.headers["webhook-id"]),
    );
    const missed = events.map((e) => e.id).filter((id) => !gotBefore.has(id));
    expect(missed.length).toBeGreaterThanOrEqual(2);
    expect(body.replayed).toBe(missed.length);
    expect(new Set(body.event_ids)).toEqual(new Set(missed));
    await drain(w);

    const received = await consumer.received(hook);
    expectAllVerified(received);
    const delivered = received.filter((r) => r.answered === 200).map((r) => r.headers["webhook-id"]);
    expect(new Set(delivered)).toEqual(new Set(events.map((e) => e.id)));
    // Nothing left to replay: a second replay queues nothing.
    const again = await callAppJson<{ replayed: number }>(w, `/v1/webhook-endpoints/${endpoint.id}/replay`, {
      method: "POST",
      json: { since },
    });
    expect(again.body.replayed).toBe(0);
  });

  it("after the last scheduled attempt the delivery is failed and dead-lettered; replay still delivers it", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await consumer.configure(hook, { fail: { status: 500 } });
    const [runId] = await detectNewRuns(w, 1);
    const [event] = await rows<{ id: string; object_id: string }>("SELECT id, object_id FROM events");
    expect(event?.object_id).toBe(runId);
    const eventId = event?.id ?? "";
    vi.useFakeTimers({ toFake: ["Date"] });
    const hops: number[] = [];
    for (let round = 0; round < 40 && w.queue.size > 0; round++) {
      const [message] = w.queue.take();
      if (!message) break;
      hops.push(message.delaySeconds);
      // Let the queue delay elapse before the consumer sees the message.
      vi.setSystemTime(Date.now() + message.delaySeconds * 1000);
      await consumeOnce(w, [message]);
    }
    // 10 attempts, the waits of 14 h, 20 h and 24 h split into hops of at most 12 h.
    expect(hops).toEqual([0, 5, 300, 1800, 7200, 18_000, 36_000, 43_200, 7200, 43_200, 28_800, 43_200, 43_200]);
    expect(Math.max(...hops)).toBeLessThanOrEqual(MAX_QUEUE_DELAY_SECONDS);
    const received = await consumer.received(hook);
    expect(received.length).toBe(MAX_ATTEMPTS);
    expect(new Set(received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([eventId]));
    const attempts = await attemptsOf(w, eventId);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(attempts.at(-1)).toMatchObject({ outcome: "failed", next_retry_at: null });
    expect(await rows("SELECT status, attempts FROM deliveries")).toEqual([{ status: "failed", attempts: 10 }]);
    expect(w.dlq.sent).toMatchObject([
      { body: { event_id: eventId, endpoint_id: endpoint.id, attempt: 10, reason: "HTTP 500" } },
    ]);

    vi.useRealTimers();
    await consumer.configure(hook, { fail: null });
    const { body } = await callAppJson<{ event_ids: string[] }>(w, `/v1/webhook-endpoints/${endpoint.id}/replay`, {
      method: "POST",
      json: { since: new Date(Date.now() - 60_000).toISOString() },
    });
    expect(body.event_ids).toEqual([eventId]);
    await drain(w);
    const last = (await consumer.received(hook)).slice(-1);
    expect(last).toMatchObject([{ answered: 200, headers: { "webhook-id": eventId } }]);
    expectAllVerified(last);
  });

  it("a message that is early for its hop is re-queued with the remaining delay and the same attempt, unsent", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w);
    const eventId = await ping(w, endpoint.id);
    w.queue.take();
    const dueAt = Date.now() + 5 * 3600 * 1000;
    await consumeOnce(w, [
      {
        body: { event_id: eventId, endpoint_id: endpoint.id, attempt: 1, generation: 1, due_at: dueAt },
        delaySeconds: 0,
      },
    ]);
    const [hop] = w.queue.take();
    expect(hop?.body).toEqual({
      event_id: eventId,
      endpoint_id: endpoint.id,
      attempt: 1,
      generation: 1,
      due_at: dueAt,
    });
    expect(hop?.delaySeconds).toBeGreaterThan(5 * 3600 - 5);
    expect(hop?.delaySeconds).toBeLessThanOrEqual(5 * 3600);
    expect(await consumer.received(hook)).toEqual([]);
  });

  it("duplicate and stale messages are acknowledged without sending again", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w);
    const eventId = await ping(w, endpoint.id);
    const [message] = w.queue.take();
    if (!message) throw new Error("nothing queued");
    await consumeOnce(w, [message]);
    await consumeOnce(w, [message]); // a redelivered duplicate
    await consumeOnce(w, [{ body: { ...message.body, generation: 7 }, delaySeconds: 0 }]);
    await consumeOnce(w, [{ body: { ...message.body, event_id: "evt_unknown" }, delaySeconds: 0 }]);
    expect((await consumer.received(hook)).length).toBe(1);
    expect(await attemptsOf(w, eventId)).toHaveLength(1);
  });

  it("no answer within the timeout is a failed attempt, retried", async () => {
    const w = webhookEnv({ WEBHOOK_TIMEOUT_MS: "200" });
    const { hook, endpoint } = await createHookEndpoint(w);
    await consumer.configure(hook, { delay_ms: 1000 });
    const eventId = await ping(w, endpoint.id);
    await consumeOnce(w);
    const [attempt] = await attemptsOf(w, eventId);
    expect(attempt).toMatchObject({ status_code: null, outcome: "retrying", error: "no response within 200 ms" });
    expect(w.queue.sent.at(-1)).toMatchObject({ body: { attempt: 2 }, delaySeconds: 5 });
  });

  it("while a rotated-out secret is valid, deliveries carry both signatures; each verifies on its own", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w);
    const { res, body } = await callAppJson<{ secret: string; previous_secret_expires_at: string }>(
      w,
      `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`,
      { method: "POST" },
    );
    expect(res.status).toBe(200);
    expect(body.secret).not.toBe(endpoint.secret);
    const hours = (Date.parse(body.previous_secret_expires_at) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);

    await consumer.configure(hook, { secrets: [body.secret, endpoint.secret] });
    await ping(w, endpoint.id);
    await consumeOnce(w);
    const [during] = await consumer.received(hook);
    expect(during?.headers["webhook-signature"]).toMatch(/^v1,\S+ v1,\S+$/);
    expect(during?.verifiedBy).toEqual([0, 1]);

    // 24 hours later only the new secret signs.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 24 * 3_600_000 + 1000);
    await ping(w, endpoint.id);
    await consumer.configure(hook, { fail: { status: 500 } });
    await consumeOnce(w);
    const after = (await consumer.received(hook)).at(-1);
    expect(after?.headers["webhook-signature"]).toMatch(/^v1,\S+$/);
  });

  it("our own failure (storage down) is an explicit retry of the message, never a lost delivery", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    const eventId = await ping(w, endpoint.id);
    const broken = webhookEnv({
      DB: {
        prepare: () => {
          throw new Error("D1 is unavailable");
        },
      },
    });
    const { createExecutionContext, createMessageBatch, getQueueResult } = await import("cloudflare:test");
    const { default: worker } = await import("../../src");
    const batch = createMessageBatch("tributary-webhooks", [
      { id: "m-broken", timestamp: new Date(), attempts: 1, body: w.queue.take()[0]?.body },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, broken.env, ctx);
    const result = (await getQueueResult(batch, ctx)) as {
      explicitAcks: string[];
      retryMessages: { msgId: string; delaySeconds: number }[];
    };
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m-broken"]);
    expect(await rows("SELECT status FROM deliveries WHERE event_id = ?", eventId)).toEqual([{ status: "pending" }]);
  });

  it("the cron re-queues a delivery whose queue message was lost, and drops events past retention", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w);
    const lost = await ping(w, endpoint.id);
    w.queue.take(); // the message never reaches the consumer
    const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000).toISOString().replace("Z", "000Z");
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = ? WHERE event_id = ?")
      .bind(elevenMinutesAgo, lost)
      .run();
    await runCron(w);
    expect(w.queue.sent.at(-1)?.body).toEqual({ event_id: lost, endpoint_id: endpoint.id, attempt: 1, generation: 1 });
    await drain(w);
    expect((await consumer.received(hook)).map((r) => r.headers["webhook-id"])).toEqual([lost]);

    await env.DB.prepare("UPDATE events SET created_at = '2000-01-01T00:00:00.000000Z' WHERE id = ?").bind(lost).run();
    await runCron(w);
    for (const table of [
      "events WHERE id = ?",
      "deliveries WHERE event_id = ?",
      "delivery_attempts WHERE event_id = ?",
    ]) {
      expect(await rows(`SELECT * FROM ${table}`, lost)).toEqual([]);
    }
  });
});
