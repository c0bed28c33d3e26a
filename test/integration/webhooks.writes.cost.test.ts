import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { fingerprintOf } from "../../src/http/idempotency";
import { sha256Hex } from "../../src/shared/digest";
import { isoMicros } from "../../src/shared/time";
import { TEST_API_KEY } from "../setup/bindings";
import { countingD1, type D1Count } from "../support/d1-count";
import { callApp, consumer, resetWebhookStore, webhookEnv } from "../support/webhooks";

// What Idempotency-Key and If-Match cost in D1, counted on the binding: round trips (a statement alone, or a batch,
// which D1 runs as one transaction), statements, and rows read and written as D1's meta reports them.

beforeEach(resetWebhookStore);

type Cost = Pick<D1Count, "calls" | "statements" | "rowsWritten"> & { log: string[] };

function setup() {
  const db = countingD1(env.DB);
  const w = webhookEnv({ DB: db.binding });
  /** What one request cost. */
  const measure = async (path: string, init: Parameters<typeof callApp>[2]) => {
    db.reset();
    const res = await callApp(w, path, init);
    await res.text();
    const { calls, statements, rowsWritten, rowsRead, log } = db.count;
    return { status: res.status, cost: { calls, statements, rowsWritten, log: [...log] }, rowsRead };
  };
  return { w, measure };
}

const costs: Record<string, Cost & { status: number; rowsRead: number }> = {};

describe("cost per POST in D1", () => {
  it("a keyed POST adds one batch before and one statement inside the operation's own; a replay or a refusal is one batch and writes nothing", async () => {
    const { measure } = setup();
    const json = { url: consumer.url("cost") };
    // The first request of an isolate also checks the migrations once: not part of any request's cost after that.
    await measure("/v1/event-subscriptions", { method: "POST", json: {} });

    const plain = await measure("/v1/webhook-endpoints", { method: "POST", json });
    const first = await measure("/v1/webhook-endpoints", {
      method: "POST",
      json,
      headers: { "Idempotency-Key": "c1" },
    });
    const replay = await measure("/v1/webhook-endpoints", {
      method: "POST",
      json,
      headers: { "Idempotency-Key": "c1" },
    });
    const reused = await measure("/v1/webhook-endpoints", {
      method: "POST",
      json: { url: consumer.url("other") },
      headers: { "Idempotency-Key": "c1" },
    });
    await env.DB.prepare(
      `INSERT INTO idempotency_keys (tenant, operation, idempotency_key, fingerprint, token, locked_until, created_at, expires_at)
       VALUES (?, 'createWebhookEndpoint', 'busy', ?, 'other', ?, ?, ?)`,
    )
      .bind(
        (await sha256Hex(TEST_API_KEY)).slice(0, 32),
        await fingerprintOf({ param: undefined, json }),
        isoMicros(Date.now() + 60_000),
        isoMicros(Date.now()),
        isoMicros(Date.now() + 86_400_000),
      )
      .run();
    const inUse = await measure("/v1/webhook-endpoints", {
      method: "POST",
      json,
      headers: { "Idempotency-Key": "busy" },
    });
    Object.assign(costs, {
      "create, no key": { status: plain.status, rowsRead: plain.rowsRead, ...plain.cost },
      "create, first with key": { status: first.status, rowsRead: first.rowsRead, ...first.cost },
      "create, replay": { status: replay.status, rowsRead: replay.rowsRead, ...replay.cost },
      "create, key reused (422)": { status: reused.status, rowsRead: reused.rowsRead, ...reused.cost },
      "create, key in use (409)": { status: inUse.status, rowsRead: inUse.rowsRead, ...inUse.cost },
    });

    expect([plain.status, first.status, replay.status, reused.status, inUse.status]).toEqual([201, 201, 201, 422, 409]);
    // The operation itself: one batch (endpoint and secret).
    expect(plain.cost).toMatchObject({ calls: 1, statements: 2, log: ["batch[2]"] });
    // Claim (insert-or-keep, then read back: one batch), then the operation with its answer kept in the same batch.
    expect(first.cost).toMatchObject({ calls: 2, statements: 5, log: ["batch[2]", "batch[3]"] });
    expect(first.cost.rowsWritten - plain.cost.rowsWritten).toBeGreaterThanOrEqual(2);
    for (const refused of [replay, reused, inUse]) {
      expect(refused.cost).toEqual({ calls: 1, statements: 2, rowsWritten: 0, log: ["batch[2]"] });
    }
  });

  it("If-Match adds no round trip: the tag is computed from the row the write reads anyway", async () => {
    const { w, measure } = setup();
    await measure("/v1/event-subscriptions", { method: "POST", json: {} });
    const created = await callApp(w, "/v1/webhook-endpoints", { method: "POST", json: { url: consumer.url("c") } });
    const { id } = (await created.json()) as { id: string };
    const path = `/v1/webhook-endpoints/${id}`;
    const plain = await measure(path, { method: "PATCH", json: { description: "a" } });
    const tag = (await callApp(w, path)).headers.get("ETag") ?? "";
    const guarded = await measure(path, { method: "PATCH", json: { description: "b" }, headers: { "If-Match": tag } });
    const stale = await measure(path, { method: "PATCH", json: { description: "c" }, headers: { "If-Match": tag } });
    Object.assign(costs, {
      "PATCH, no If-Match": { status: plain.status, rowsRead: plain.rowsRead, ...plain.cost },
      "PATCH, If-Match current": { status: guarded.status, rowsRead: guarded.rowsRead, ...guarded.cost },
      "PATCH, If-Match stale (412)": { status: stale.status, rowsRead: stale.rowsRead, ...stale.cost },
    });
    expect([plain.status, guarded.status, stale.status]).toEqual([200, 200, 412]);
    expect(plain.cost).toMatchObject({ calls: 2, statements: 2 });
    expect(guarded.cost).toMatchObject({ calls: 2, statements: 2 });
    expect(stale.cost).toMatchObject({ calls: 1, statements: 1, rowsWritten: 0 });

    const table = Object.entries(costs).map(
      ([what, c]) =>
        `${what.padEnd(30)} ${String(c.status).padEnd(4)} calls ${c.calls}  statements ${c.statements}  rows read ${c.rowsRead}  rows written ${c.rowsWritten}  [${c.log.join(", ")}]`,
    );
    console.log(`[cost] D1 per request\n${table.join("\n")}`);
  });
});
