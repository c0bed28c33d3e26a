import {
  applyD1Migrations,
  createExecutionContext,
  createMessageBatch,
  type D1Migration,
  getQueueResult,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src";
import type { DeliveryMessage } from "../../src/events/outbox";
import { MIGRATIONS } from "../../src/storage/readiness";
import { TEST_EIGHTBYEIGHT_INBOUND_SECRET, TEST_INKIT_WEBHOOK_SECRET } from "../setup/bindings";
import { captureLogs } from "../support/hardening";
import { expectProblem } from "../support/problem";
import { inkitSim, resetSimulators } from "../support/simulator";
import { dropTables } from "../support/storage";
import {
  callApp,
  consumeOnce,
  consumer,
  createHookEndpoint,
  drain,
  hmacHex,
  postInkit,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";
import { request } from "../support/worker";

// A deployment that missed a setup step (migrations not applied, a binding missing) answers a 503
// `deployment-incomplete` naming the step, never a 500; its cron and queue handlers log it once and lose nothing.

const extra = env as unknown as {
  TEST_MIGRATIONS: D1Migration[];
  TEST_BARE_DB: D1Database;
  TEST_UPGRADE_DB: D1Database;
};

/** Every route that reads or writes D1, with a body where it takes one. */
const D1_ROUTES: [string, string, unknown?][] = [
  ["GET", "/v1/events"],
  ["GET", "/v1/events/evt_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"],
  ["GET", "/v1/events/evt_01JD5Q0Z8K3M4N5P6Q7R8S9T0V/attempts"],
  ["GET", "/v1/webhook-endpoints"],
  ["POST", "/v1/webhook-endpoints", { url: "https://hooks.example.com/x" }],
  ["GET", "/v1/webhook-endpoints/we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"],
  ["PATCH", "/v1/webhook-endpoints/we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V", { description: "x" }],
  ["DELETE", "/v1/webhook-endpoints/we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"],
  ["POST", "/v1/webhook-endpoints/we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V/rotate-secret"],
  ["POST", "/v1/webhook-endpoints/we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V/test"],
  ["POST", "/v1/webhook-endpoints/we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V/replay", { since: "2026-01-01T00:00:00Z" }],
  ["GET", "/v1/event-stream"],
  ["GET", "/v1/event-subscriptions"],
  ["POST", "/v1/event-subscriptions", { sources: ["inkit:runs"] }],
  ["GET", "/v1/event-subscriptions/sub_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"],
  ["PATCH", "/v1/event-subscriptions/sub_01JD5Q0Z8K3M4N5P6Q7R8S9T0V", { description: "x" }],
  ["DELETE", "/v1/event-subscriptions/sub_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"],
  ["GET", "/v1/feeds"],
  ["POST", "/v1/feeds", { sources: ["inkit"] }],
  ["GET", "/v1/feeds/feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"],
  ["DELETE", "/v1/feeds/feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"],
  // The merged feed reads D1 only for a saved feed.
  ["GET", "/v1/runs?feed=feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"],
];

const INKIT_PUSH = JSON.stringify({ event_type: "render.completed", resource_id: "rend_doesNotMatter" });

/** Both inbound pushes, correctly authenticated. */
async function inbound(w: WebhookEnv): Promise<Response[]> {
  return [
    await postInkit(w, INKIT_PUSH, await hmacHex(TEST_INKIT_WEBHOOK_SECRET, INKIT_PUSH)),
    await callApp(w, "/v1/inbound/8x8", {
      method: "POST",
      auth: false,
      json: {
        workflowId: "60dbe307fe55d99fc083db61",
        definitionId: "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14",
        status: "Complete",
        accountId: "acme-ops",
      },
      headers: { Authorization: `Bearer ${TEST_EIGHTBYEIGHT_INBOUND_SECRET}` },
    }),
  ];
}

const send = (w: WebhookEnv, [method, path, json]: [string, string, unknown?]) =>
  callApp(w, path, { method, ...(json === undefined ? {} : { json }) });

/** The queue handler's verdict on a batch, without asserting it was acknowledged. */
async function runQueue(w: WebhookEnv, bodies: DeliveryMessage[]) {
  const batch = createMessageBatch<DeliveryMessage>(
    "tributary-webhooks",
    bodies.map((body, i) => ({ id: `not-ready-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, w.env, ctx);
  return (await getQueueResult(batch, ctx)) as {
    retryBatch: { retry: boolean };
    explicitAcks: string[];
    retryMessages: unknown[];
    ackAll: boolean;
  };
}

const notReadyLines = (lines: string[]) => lines.filter((l) => l.includes('"deployment incomplete"'));

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

describe("D1 migrations not applied", () => {
  it("MIGRATIONS lists exactly the files in migrations/", () => {
    expect([...MIGRATIONS]).toEqual(extra.TEST_MIGRATIONS.map((m) => m.name));
  });

  it("every D1 route answers 503 deployment-incomplete naming the step, after authentication and validation", async () => {
    const w = webhookEnv({ DB: extra.TEST_BARE_DB });
    for (const route of D1_ROUTES) {
      const problem = await expectProblem(await send(w, route), 503, "deployment-incomplete");
      expect(problem.detail, route.join(" ")).toContain("has no migrations applied");
      expect(problem.detail).toContain("wrangler d1 migrations apply DB");
    }
    for (const res of await inbound(w)) {
      const problem = await expectProblem(res, 503, "deployment-incomplete");
      expect(problem.detail).toContain("has no migrations applied");
    }
    // The merged feed over inline sources needs no D1.
    expect((await callApp(w, "/v1/runs?source=inkit&limit=1")).status).toBe(200);
    // Input is validated first: a bad request is still a 400 the caller can fix.
    const malformed = await callApp(w, "/v1/webhook-endpoints", {
      method: "POST",
      body: "{not json",
      headers: { "Content-Type": "application/json" },
    });
    await expectProblem(malformed, 400, "validation-error");
    // Unauthenticated callers learn nothing about the deployment.
    await expectProblem(await callApp(w, "/v1/events", { auth: false }), 401, "unauthorized");
    await expectProblem(await postInkit(w, INKIT_PUSH, "00".repeat(32)), 401, "unauthorized");
  });

  it("a database that lacks the newest migration names it; once applied, the same routes work", async () => {
    const db = extra.TEST_UPGRADE_DB;
    await dropTables(db);
    await applyD1Migrations(db, extra.TEST_MIGRATIONS.slice(0, -1));
    const w = webhookEnv({ DB: db });
    const problem = await expectProblem(await callApp(w, "/v1/events"), 503, "deployment-incomplete");
    expect(problem.detail).toContain(`lacks migration ${MIGRATIONS.at(-1)}.`);

    await applyD1Migrations(db, extra.TEST_MIGRATIONS);
    expect((await callApp(w, "/v1/events")).status).toBe(200);
    expect((await callApp(w, "/v1/webhook-endpoints")).status).toBe(200);
  });

  it("migration 0002 numbers the events recorded before it, per source in creation order, payloads included", async () => {
    const db = extra.TEST_UPGRADE_DB;
    await dropTables(db);
    await applyD1Migrations(db, extra.TEST_MIGRATIONS.slice(0, 1));
    const old = (id: string, tenant: string, source: string | null, createdAt: string) => {
      const type = source === null ? "ping" : "run.status_changed";
      const payload = JSON.stringify({
        type,
        timestamp: createdAt,
        data: { object: { id: `obj-${id}` }, previous: null },
      });
      return db
        .prepare(
          "INSERT INTO events (id, tenant, type, source, object_id, created_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id, tenant, type, source, `obj-${id}`, createdAt, payload);
    };
    await db.batch([
      old("evt_3", "a", "inkit:runs", "2026-01-02T00:00:00.000000Z"),
      old("evt_1", "a", "inkit:runs", "2026-01-01T00:00:00.000000Z"),
      old("evt_2", "b", "inkit:runs", "2026-01-01T00:00:00.000000Z"),
      old("evt_4", "a", "inkit:batches", "2026-01-03T00:00:00.000000Z"),
      old("evt_5", "a", null, "2026-01-04T00:00:00.000000Z"),
    ]);
    await applyD1Migrations(db, extra.TEST_MIGRATIONS);

    const { results } = await db.prepare("SELECT id, sequence, payload FROM events ORDER BY id").all<{
      id: string;
      sequence: number | null;
      payload: string;
    }>();
    expect(results.map((r) => [r.id, r.sequence])).toEqual([
      ["evt_1", 1],
      ["evt_2", 2],
      ["evt_3", 3],
      ["evt_4", 1],
      ["evt_5", null],
    ]);
    for (const r of results) {
      const payload = JSON.parse(r.payload);
      expect(payload.sequence).toBe(r.sequence ?? undefined);
      expect(payload.data).toEqual({ object: { id: `obj-${r.id}` }, previous: null });
    }
    const counters = await db.prepare("SELECT source, sequence FROM event_sequences ORDER BY source").all();
    expect(counters.results).toEqual([
      { source: "inkit:batches", sequence: 1 },
      { source: "inkit:runs", sequence: 3 },
    ]);
  });
  it("migration 0004 gives the events recorded before it stream positions in creation order, and the counter", async () => {
    const db = extra.TEST_UPGRADE_DB;
    await dropTables(db);
    await applyD1Migrations(
      db,
      extra.TEST_MIGRATIONS.filter((m) => m.name < "0004"),
    );
    const old = (id: string, tenant: string, createdAt: string) =>
      db
        .prepare(
          "INSERT INTO events (id, tenant, type, source, object_id, created_at, payload) VALUES (?, ?, 'ping', NULL, 'x', ?, '{}')",
        )
        .bind(id, tenant, createdAt);
    await db.batch([
      old("evt_c", "a", "2026-01-02T00:00:00.000000Z"),
      old("evt_b", "b", "2026-01-01T00:00:00.000000Z"),
      old("evt_a", "a", "2026-01-01T00:00:00.000000Z"),
    ]);
    await applyD1Migrations(db, extra.TEST_MIGRATIONS);

    const { results } = await db.prepare("SELECT id, position FROM events ORDER BY position").all();
    expect(results).toEqual([
      { id: "evt_a", position: 1 },
      { id: "evt_b", position: 2 },
      { id: "evt_c", position: 3 },
    ]);
    expect(await db.prepare("SELECT id, last, pruned FROM event_stream").all()).toMatchObject({
      results: [{ id: 1, last: 3, pruned: 0 }],
    });
  });
});

describe("a binding missing", () => {
  it("without DB every D1 route answers 503 naming the DB binding", async () => {
    const w = webhookEnv({ DB: undefined });
    for (const route of D1_ROUTES) {
      const problem = await expectProblem(await send(w, route), 503, "deployment-incomplete");
      expect(problem.detail, route.join(" ")).toContain("The D1 binding `DB` is missing");
    }
    for (const res of await inbound(w)) {
      expect((await expectProblem(res, 503, "deployment-incomplete")).detail).toContain("`DB` is missing");
    }
  });

  it("without WEBHOOK_QUEUE the routes that queue deliveries answer 503 naming it; the others still work", async () => {
    const ready = webhookEnv();
    const { endpoint } = await createHookEndpoint(ready, { sources: ["inkit:runs"] });
    const w = webhookEnv({ WEBHOOK_QUEUE: undefined });
    const queueing: [string, string, unknown?][] = [
      ["POST", `/v1/webhook-endpoints/${endpoint.id}/test`],
      ["POST", `/v1/webhook-endpoints/${endpoint.id}/replay`, { since: "2026-01-01T00:00:00Z" }],
    ];
    for (const route of queueing) {
      const problem = await expectProblem(await send(w, route), 503, "deployment-incomplete");
      expect(problem.detail).toContain("The Queue binding `WEBHOOK_QUEUE` is missing");
    }
    for (const res of await inbound(w)) {
      expect((await expectProblem(res, 503, "deployment-incomplete")).detail).toContain("`WEBHOOK_QUEUE`");
    }
    expect((await callApp(w, "/v1/webhook-endpoints")).status).toBe(200);
    expect((await callApp(w, `/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(200);
    expect((await callApp(w, "/v1/events")).status).toBe(200);
    expect(await rows("SELECT * FROM events")).toEqual([]);
  });

  it("without CACHE listings fail open: served from the upstream, saying so, with a warning naming CACHE", async () => {
    const { result: res, lines } = await captureLogs(() =>
      request("/v1/inkit/runs?limit=3", { env: { CACHE: undefined, LOG_LEVEL: "warn" } }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(3);
    expect(res.headers.get("Cache-Status")).toContain("detail=cache-unavailable");
    expect(notReadyLines(lines).some((l) => l.includes("The KV binding `CACHE` is missing"))).toBe(true);
  });

  it("without CACHE an inbound push still re-checks at once (there is nothing cached to drop)", async () => {
    const w = webhookEnv({ CACHE: undefined });
    await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 1 });
    const [res] = await inbound(w);
    expect(res?.status).toBe(202);
    expect(await rows("SELECT type, object_id FROM events")).toEqual([
      { type: "run.created", object_id: items[0]?.id },
    ]);
  });
});

describe("cron and queue handlers", () => {
  it("the cron logs the missing step once per tick and does nothing; the next ready tick catches up", async () => {
    const ready = webhookEnv();
    await createHookEndpoint(ready, { sources: ["inkit:runs"] });
    await runCron(ready); // baseline
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 2 });

    for (const broken of [{ DB: extra.TEST_BARE_DB }, { DB: undefined }, { WEBHOOK_QUEUE: undefined }]) {
      const w = webhookEnv({ ...broken, LOG_LEVEL: "error" }); // the suite logs nothing by default
      const { lines } = await captureLogs(() => runCron(w));
      const logged = notReadyLines(lines);
      expect(logged, JSON.stringify(broken)).toHaveLength(1);
      expect(JSON.parse(logged[0] as string)).toMatchObject({ level: "error", handler: "scheduled" });
      expect(w.queue.sent).toEqual([]);
    }
    expect(await rows("SELECT * FROM events")).toEqual([]);

    await runCron(ready);
    expect((await rows<{ object_id: string }>("SELECT object_id FROM events")).map((e) => e.object_id).sort()).toEqual(
      items.map((i) => i.id).sort(),
    );
  });

  it("the queue consumer retries the whole batch, acknowledging nothing, with one log line; later it delivers", async () => {
    const ready = webhookEnv();
    const { hook } = await createHookEndpoint(ready, { sources: ["inkit:runs"] });
    await runCron(ready);
    await inkitSim.insert({ kind: "run", count: 3 });
    await runCron(ready);
    const messages = ready.queue.take();
    expect(messages).toHaveLength(3);

    for (const broken of [
      { DB: extra.TEST_BARE_DB },
      { DB: undefined },
      { WEBHOOK_QUEUE: undefined },
      { WEBHOOK_DLQ: undefined },
      { ENDPOINT_PACER: undefined },
    ]) {
      const w = webhookEnv({ ...broken, LOG_LEVEL: "error" }); // the suite logs nothing by default
      const { result, lines } = await captureLogs(() =>
        runQueue(
          w,
          messages.map((m) => m.body),
        ),
      );
      expect(result.retryBatch.retry, JSON.stringify(broken)).toBe(true);
      expect(result.explicitAcks).toEqual([]);
      expect(result.ackAll).toBe(false);
      const logged = notReadyLines(lines);
      expect(logged).toHaveLength(1);
      expect(JSON.parse(logged[0] as string)).toMatchObject({ handler: "queue", messages: 3, retry_in_seconds: 60 });
    }
    expect(await consumer.received(hook)).toEqual([]);
    expect(await rows("SELECT DISTINCT status FROM deliveries")).toEqual([{ status: "pending" }]);

    // The retried messages, once the deployment is fixed.
    await consumeOnce(ready, messages);
    await drain(ready);
    expect((await consumer.received(hook)).filter((r) => r.answered === 200)).toHaveLength(3);
  });
});
