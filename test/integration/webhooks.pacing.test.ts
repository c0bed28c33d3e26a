import { beforeEach, describe, expect, it } from "vitest";
import { DeliveryAttemptSchema } from "../../src/schemas/events";
import { expectProblem } from "../support/problem";
import {
  callApp,
  callAppJson,
  consumeOnce,
  consumer,
  createHookEndpoint,
  drainInTime,
  expectAllVerified,
  type ReceivedDelivery,
  resetWebhookStore,
  rows,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

// Pacing per endpoint (docs/webhooks.md#pacing), counted where deliveries land: the test consumer records each
// request's arrival, the most within any second and the most at once. The deliveries consumer runs as Queues would
// (drainInTime: real delays, batches of 10, invocations side by side); no test reads a clock of its own.

/** Queues `n` pings to an endpoint (each its own event and delivery); returns their event ids. */
async function pings(w: WebhookEnv, endpointId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { res, body } = await callAppJson<{ event_id: string }>(w, `/v1/webhook-endpoints/${endpointId}/test`, {
      method: "POST",
    });
    expect(res.status).toBe(202);
    ids.push(body.event_id);
  }
  return ids;
}

const idsOf = (received: ReceivedDelivery[]) => received.map((r) => r.headers["webhook-id"] ?? "");
const acknowledged = (received: ReceivedDelivery[]) => idsOf(received.filter((r) => r.answered === 200));

/** The messages held by the pacer: sent again with the attempt they already had (retries carry the next one). */
const held = (w: WebhookEnv) => {
  const seen = new Set<string>();
  return w.queue.sent.filter((m) => {
    const key = `${m.body.event_id}/${m.body.attempt}/${m.body.generation}`;
    const again = seen.has(key);
    seen.add(key);
    return again;
  });
};

beforeEach(async () => {
  await resetWebhookStore();
});

describe("endpoint pacing settings", () => {
  it("default to no rate limit and 10 in flight; are set on create and PATCH; a bad value is a 400 naming it", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    expect(endpoint).toMatchObject({ rate_limit: null, max_in_flight: 10 });

    const { endpoint: paced } = await createHookEndpoint(w, { rate_limit: 5, max_in_flight: 2 });
    expect(paced).toMatchObject({ rate_limit: 5, max_in_flight: 2 });
    const got = await callAppJson(w, `/v1/webhook-endpoints/${paced.id}`);
    expect(got.body).toMatchObject({ rate_limit: 5, max_in_flight: 2 });

    const patched = await callAppJson(w, `/v1/webhook-endpoints/${paced.id}`, {
      method: "PATCH",
      json: { rate_limit: null, max_in_flight: 50 },
    });
    expect(patched.res.status).toBe(200);
    expect(patched.body).toMatchObject({ rate_limit: null, max_in_flight: 50 });
    // The ETag covers them: a write under the old one is refused.
    const etag = got.res.headers.get("ETag") ?? "";
    const stale = await callApp(w, `/v1/webhook-endpoints/${paced.id}`, {
      method: "PATCH",
      headers: { "If-Match": etag },
      json: { rate_limit: 7 },
    });
    expect(stale.status).toBe(412);

    const bad: [string, unknown][] = [
      ["rate_limit", 0],
      ["rate_limit", 201],
      ["rate_limit", 2.5],
      ["rate_limit", "5"],
      ["max_in_flight", 0],
      ["max_in_flight", 101],
      ["max_in_flight", null],
    ];
    for (const [field, value] of bad) {
      const created = await callApp(w, "/v1/webhook-endpoints", {
        method: "POST",
        json: { url: consumer.url("never"), [field]: value },
      });
      const problem = await expectProblem(created, 400, "validation-error");
      expect(
        problem.errors?.map((e) => e.name),
        `${field}: ${JSON.stringify(value)}`,
      ).toContain(field);
      const updated = await callApp(w, `/v1/webhook-endpoints/${paced.id}`, {
        method: "PATCH",
        json: { [field]: value },
      });
      expect((await expectProblem(updated, 400, "validation-error")).errors?.map((e) => e.name)).toContain(field);
    }
  });
});

describe("paced deliveries, counted at the consumer", () => {
  it("rate_limit 5: never more than 5 arrive within any second, and each of 30 events arrives once", {
    timeout: 90_000,
  }, async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w, { rate_limit: 5 });
    const events = await pings(w, endpoint.id, 30);
    await drainInTime(w);

    const report = await consumer.report(hook);
    expectAllVerified(report.received);
    expect(report.max_per_second).toBeLessThanOrEqual(5);
    expect(report.max_per_second).toBeGreaterThanOrEqual(2);
    expect(acknowledged(report.received).sort()).toEqual([...events].sort());
    expect(report.received).toHaveLength(30);
    // Held deliveries kept their attempt: every delivery took exactly one.
    expect(held(w).length).toBeGreaterThan(0);
    expect(await rows("SELECT DISTINCT status, attempts FROM deliveries")).toEqual([
      { status: "delivered", attempts: 1 },
    ]);
  });

  it("a consumer answering 429 for 30 s (Retry-After: what is left) gets nothing more in that window, then everything", {
    timeout: 120_000,
  }, async () => {
    const w = webhookEnv();
    // One in flight, so the first 429 is the only request that can be under way when the endpoint says to wait.
    const { hook, endpoint } = await createHookEndpoint(w, { max_in_flight: 1 });
    await consumer.configure(hook, { fail: { status: 429, for_ms: 30_000, retry_after: "remaining" } });
    const events = await pings(w, endpoint.id, 10);
    await drainInTime(w);

    const report = await consumer.report(hook);
    const window = report.fail_window;
    if (!window) throw new Error("the consumer never failed a request");
    const inWindow = report.received.filter((r) => r.at >= window.from && r.at < window.until);
    expect(inWindow).toHaveLength(1);
    expect(inWindow[0]?.answered).toBe(429);
    // Everything arrives afterwards, once each: the 429'd event again (attempt 2), the held ones for their first time.
    const after = report.received.filter((r) => r.at >= window.until);
    expect(after.every((r) => r.answered === 200)).toBe(true);
    expect(acknowledged(report.received).sort()).toEqual([...events].sort());
    expect(report.received).toHaveLength(11);
    expectAllVerified(report.received);

    // The retry schedule did not run while they were held: attempts 2 for the 429'd one, 1 for every other.
    const attempts = await rows<{ event_id: string; status: string; attempts: number }>(
      "SELECT event_id, status, attempts FROM deliveries ORDER BY attempts DESC",
    );
    expect(attempts.map((a) => [a.status, a.attempts])).toEqual([
      ["delivered", 2],
      ...Array.from({ length: 9 }, () => ["delivered", 1]),
    ]);
    const refusedId = inWindow[0]?.headers["webhook-id"];
    expect(attempts[0]?.event_id).toBe(refusedId);
    expect(held(w).length).toBeGreaterThanOrEqual(9);
    expect(held(w).every((m) => m.body.attempt === 1)).toBe(true);

    // GET …/attempts shows what happened: a 429 retried after the Retry-After, then the delivery.
    const { body } = await callAppJson<{ data: unknown[] }>(w, `/v1/events/${refusedId}/attempts`);
    const shown = body.data.map((a) => DeliveryAttemptSchema.parse(a)).reverse();
    expect(shown).toMatchObject([
      { attempt: 1, status_code: 429, outcome: "retrying" },
      { attempt: 2, status_code: 200, outcome: "delivered" },
    ]);
  });

  it("a held delivery keeps its attempt, and its stored next_attempt_at moves to the pause's end", async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w, { max_in_flight: 1 });
    await consumer.configure(hook, { fail: { status: 503, times: 1, retry_after: "3600" } });
    const [first, second] = await pings(w, endpoint.id, 2);
    const [toFirst, toSecond] = w.queue.take();
    await consumeOnce(w, toFirst ? [toFirst] : []); // answered 503, Retry-After one hour: the endpoint pauses
    await consumeOnce(w, toSecond ? [toSecond] : []); // held, unsent
    expect(await consumer.received(hook)).toHaveLength(1);

    const [retry, again] = w.queue.sent.slice(-2);
    expect(retry).toMatchObject({ body: { event_id: first, attempt: 2 }, delaySeconds: 3600 });
    expect(again?.body).toMatchObject({ event_id: second, attempt: 1 });
    expect(again?.delaySeconds).toBeGreaterThanOrEqual(3590);
    const stored = await rows<{ event_id: string; next_attempt: number; next_attempt_at: string; attempts: number }>(
      "SELECT event_id, next_attempt, next_attempt_at, attempts FROM deliveries ORDER BY event_id",
    );
    const byId = new Map(stored.map((d) => [d.event_id, d]));
    expect(byId.get(second ?? "")).toMatchObject({ next_attempt: 1, attempts: 0 });
    // Held until about when the answered one is retried: the pause's end.
    const heldTill = byId.get(second ?? "")?.next_attempt_at ?? "";
    const retried = byId.get(first ?? "")?.next_attempt_at ?? "";
    expect(Math.abs(Date.parse(heldTill) - Date.parse(retried))).toBeLessThan(10_000);
  });

  it("max_in_flight 2 with a slow consumer (1.5 s an answer): never more than 2 at once, each event once", {
    timeout: 90_000,
  }, async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w, { max_in_flight: 2 });
    await consumer.configure(hook, { delay_ms: 1_500 });
    const events = await pings(w, endpoint.id, 8);
    await drainInTime(w);

    const report = await consumer.report(hook);
    expect(report.max_concurrent).toBe(2);
    expect(acknowledged(report.received).sort()).toEqual([...events].sort());
    expect(report.received).toHaveLength(8);
    expect(await rows("SELECT DISTINCT status, attempts FROM deliveries")).toEqual([
      { status: "delivered", attempts: 1 },
    ]);
  });

  it("without pacing settings a burst is bounded only by the default in flight: the consumer sees it at once", {
    timeout: 60_000,
  }, async () => {
    const w = webhookEnv();
    const { hook, endpoint } = await createHookEndpoint(w);
    await consumer.configure(hook, { delay_ms: 500 });
    const events = await pings(w, endpoint.id, 20);
    await drainInTime(w);

    const report = await consumer.report(hook);
    // The counters do see concurrency and bursts: this is what the paced cases above are held below.
    expect(report.max_concurrent).toBeGreaterThan(2);
    expect(report.max_concurrent).toBeLessThanOrEqual(10);
    expect(report.max_per_second).toBeGreaterThan(5);
    expect(acknowledged(report.received).sort()).toEqual([...events].sort());
  });
});
