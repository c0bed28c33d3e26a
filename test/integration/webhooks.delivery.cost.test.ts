import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { PaceAsk } from "../../src/delivery/pacer";
import { countingD1 } from "../support/d1-count";
import {
  callAppJson,
  consumeOnce,
  consumer,
  createHookEndpoint,
  expectAllVerified,
  resetWebhookStore,
  rows,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

// What a batch of deliveries costs, counted on the bindings: D1 round trips (a statement alone or a batch) and
// statements, and round trips to the endpoints' pacers. A batch of 10 used to cost 50 D1 round trips and 20 pacer
// round trips (5 and 2 per delivery); the free plan allows 50 subrequests per invocation.

beforeEach(resetWebhookStore);

/** The pacer namespace, counting each round trip and what it gave back and asked for. */
function countingPacers(ns: Env["ENDPOINT_PACER"]) {
  const asks: { endpoint: string; release: number; want: number }[] = [];
  const binding = {
    idFromName: (name: string) => ns.idFromName(name),
    get(id: DurableObjectId) {
      const stub = ns.get(id);
      return {
        pace(ask: PaceAsk) {
          asks.push({ endpoint: id.toString(), release: ask.release.length, want: ask.want });
          return stub.pace(ask);
        },
      };
    },
  } as unknown as Env["ENDPOINT_PACER"];
  return { binding, asks };
}

/** The bindings with D1 and the pacers counted, warmed: the isolate's one-time migration check is not in any batch. */
async function counted() {
  const db = countingD1(env.DB);
  const pacers = countingPacers(env.ENDPOINT_PACER);
  const w = webhookEnv({ DB: db.binding, ENDPOINT_PACER: pacers.binding });
  await consumeOnce(w, [
    { body: { event_id: "evt_none", endpoint_id: "we_none", attempt: 1, generation: 1 }, delaySeconds: 0 },
  ]);
  db.reset();
  pacers.asks.length = 0;
  return { w, d1: db.count, pacer: pacers.asks };
}

async function pings(w: WebhookEnv, endpointId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const { res } = await callAppJson(w, `/v1/webhook-endpoints/${endpointId}/test`, { method: "POST" });
    expect(res.status).toBe(202);
  }
}

describe("cost of a delivery batch", () => {
  it("10 deliveries to one endpoint: 2 D1 round trips (4 statements) and 2 pacer round trips", async () => {
    const { w, d1, pacer } = await counted();
    const { hook, endpoint } = await createHookEndpoint(w);
    await pings(w, endpoint.id, 10);
    d1.calls = d1.statements = 0;
    d1.log.length = 0;

    await consumeOnce(w);

    const received = await consumer.received(hook);
    expect(received).toHaveLength(10);
    expectAllVerified(received);
    expect(await rows("SELECT status, attempts, COUNT(*) AS n FROM deliveries GROUP BY status, attempts")).toEqual([
      { status: "delivered", attempts: 1, n: 10 },
    ]);
    expect(await rows("SELECT COUNT(*) AS n FROM delivery_attempts WHERE outcome = 'delivered'")).toEqual([{ n: 10 }]);
    // One read of every delivery, payload, endpoint and secret; one write of every attempt and delivery.
    expect(d1.log).toEqual(["batch[2]", "batch[2]"]);
    expect({ calls: d1.calls, statements: d1.statements }).toEqual({ calls: 2, statements: 4 });
    // Ten slots asked for at once, given back at once.
    expect(pacer.map(({ release, want }) => ({ release, want }))).toEqual([
      { release: 0, want: 10 },
      { release: 10, want: 0 },
    ]);
  });

  it("10 failing deliveries to two endpoints: one read, one write per endpoint, two pacer round trips per endpoint", async () => {
    const { w, d1, pacer } = await counted();
    const a = await createHookEndpoint(w);
    const b = await createHookEndpoint(w);
    await consumer.configure(a.hook, { fail: { status: 500 } });
    await pings(w, a.endpoint.id, 5);
    await pings(w, b.endpoint.id, 5);
    d1.calls = d1.statements = 0;
    d1.log.length = 0;

    await consumeOnce(w);

    expect(await consumer.received(a.hook)).toHaveLength(5);
    expect(await consumer.received(b.hook)).toHaveLength(5);
    // The failed ones are retried (attempt 2, after the schedule's 5 s), each once.
    const retries = w.queue.take();
    expect(retries).toHaveLength(5);
    expect(retries.every((m) => m.body.endpoint_id === a.endpoint.id && m.body.attempt === 2)).toBe(true);
    expect(retries.every((m) => m.delaySeconds === 5)).toBe(true);
    expect(await rows("SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status ORDER BY status")).toEqual([
      { status: "delivered", n: 5 },
      { status: "pending", n: 5 },
    ]);
    expect({ calls: d1.calls, statements: d1.statements }).toEqual({ calls: 3, statements: 6 });
    expect(pacer).toHaveLength(4);
    for (const id of [a.endpoint.id, b.endpoint.id]) {
      const asks = pacer.filter((p) => p.endpoint === env.ENDPOINT_PACER.idFromName(id).toString());
      expect(asks.map(({ release, want }) => ({ release, want }))).toEqual([
        { release: 0, want: 5 },
        { release: 5, want: 0 },
      ]);
    }
  });

  it("an answer that pauses the endpoint gives its slot back at once, not with the rest of its group", async () => {
    const { w, pacer } = await counted();
    const { hook, endpoint } = await createHookEndpoint(w);
    await consumer.configure(hook, { fail: { status: 429, times: 1, retry_after: "60" } });
    await pings(w, endpoint.id, 10);

    await consumeOnce(w);

    expect((await consumer.received(hook)).map((r) => r.answered).sort()).toEqual([
      ...Array.from({ length: 9 }, () => 200),
      429,
    ]);
    expect(pacer.map(({ release, want }) => ({ release, want }))).toEqual([
      { release: 0, want: 10 },
      { release: 1, want: 0 },
      { release: 9, want: 0 },
    ]);
    // The pause is in force: the 429'd delivery's retry, early, is held for the Retry-After, unsent.
    const [retry] = w.queue.take();
    expect(retry).toMatchObject({ body: { attempt: 2 }, delaySeconds: 60 });
    await consumeOnce(w, retry ? [{ ...retry, delaySeconds: 0 }] : []);
    const [again] = w.queue.take();
    expect(again?.body.attempt).toBe(2);
    expect(again?.delaySeconds).toBeGreaterThanOrEqual(58);
    expect(await consumer.received(hook)).toHaveLength(10);
  });

  it("a duplicate in the same batch is one attempt: both copies acknowledged, one POST", async () => {
    const { w, d1 } = await counted();
    const { hook, endpoint } = await createHookEndpoint(w);
    await pings(w, endpoint.id, 1);
    const [message] = w.queue.take();
    if (!message) throw new Error("nothing queued");
    d1.calls = d1.statements = 0;

    await consumeOnce(w, [message, message]);

    expect(await consumer.received(hook)).toHaveLength(1);
    expect(await rows("SELECT attempts FROM deliveries")).toEqual([{ attempts: 1 }]);
    expect(d1.calls).toBe(2);
  });
});
