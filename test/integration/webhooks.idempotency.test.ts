import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { fingerprintOf } from "../../src/http/idempotency";
import { pruneExpired } from "../../src/scheduled";
import { sha256Hex } from "../../src/shared/digest";
import { openSealed } from "../../src/shared/sealing";
import { isoMicros } from "../../src/shared/time";
import { TEST_API_KEY, TEST_API_KEY_2, TEST_WEBHOOK_ENCRYPTION_KEY } from "../setup/bindings";
import { captureLogs } from "../support/hardening";
import { expectProblem } from "../support/problem";
import {
  type CreatedEndpoint,
  callApp,
  consumer,
  createHookEndpoint,
  resetWebhookStore,
  rows,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

// Idempotency-Key on every POST (draft-ietf-httpapi-idempotency-key-header): one effect per key, the first answer
// replayed for 24 hours, 422 for a key reused with another request, 409 while the first one still runs.

beforeEach(resetWebhookStore);

interface KeyRow {
  tenant: string;
  operation: string;
  idempotency_key: string;
  status: number | null;
  headers: string | null;
  body: string | null;
  sealed: number;
  created_at: string;
  expires_at: string;
}

const keyRows = () => rows<KeyRow>("SELECT * FROM idempotency_keys ORDER BY created_at");

/** POSTs JSON with an Idempotency-Key (and the test API key unless `auth` says otherwise). */
const post = (w: WebhookEnv, path: string, key: string, json?: unknown, auth?: string) =>
  callApp(w, path, {
    method: "POST",
    headers: { "Idempotency-Key": key },
    ...(json === undefined ? {} : { json }),
    ...(auth ? { auth } : {}),
  });

const createWith = async (w: WebhookEnv, key: string, json: unknown, auth?: string) => {
  const res = await post(w, "/v1/webhook-endpoints", key, json, auth);
  const text = await res.text();
  return { res, text, body: JSON.parse(text) as CreatedEndpoint };
};

describe("Idempotency-Key: a retried POST runs once", () => {
  it("a retried create answers the first answer again: one endpoint, the same id and the same secret", async () => {
    const w = webhookEnv();
    const json = { url: consumer.url("idem-create"), description: "orders" };
    const first = await createWith(w, "create-1", json);
    expect(first.res.status).toBe(201);
    expect(first.res.headers.get("Idempotent-Replayed")).toBeNull();

    const again = await createWith(w, "create-1", json);
    expect(again.res.status).toBe(201);
    expect(again.res.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.res.headers.get("Location")).toBe(`/v1/webhook-endpoints/${first.body.id}`);
    expect(again.res.headers.get("Content-Type")).toBe(first.res.headers.get("Content-Type"));
    expect(again.text).toBe(first.text);
    expect(again.body.secret).toBe(first.body.secret);
    expect(again.res.headers.get("X-Request-Id")).not.toBe(first.res.headers.get("X-Request-Id"));

    expect(await rows("SELECT id FROM webhook_endpoints")).toEqual([{ id: first.body.id }]);
    expect(await rows("SELECT id FROM webhook_secrets")).toHaveLength(1);
  });

  it("the same body spelled differently (key order, spacing) is the same request", async () => {
    const w = webhookEnv();
    const url = consumer.url("idem-spelling");
    const first = await createWith(w, "spelled", { url, description: "d", event_types: ["run.failed"] });
    const res = await callApp(w, "/v1/webhook-endpoints", {
      method: "POST",
      headers: { "Idempotency-Key": "spelled", "Content-Type": "application/json" },
      body: `{ "event_types": [ "run.failed" ],\n  "description": "d", "url": ${JSON.stringify(url)} }`,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Idempotent-Replayed")).toBe("true");
    expect(((await res.json()) as CreatedEndpoint).id).toBe(first.body.id);
  });

  it("duplicates racing: exactly one endpoint, and every other answer is a 409 or the first answer replayed", async () => {
    const w = webhookEnv();
    const json = { url: consumer.url("idem-race") };
    const answers = await Promise.all(Array.from({ length: 8 }, () => createWith(w, "race-1", json)));
    const created = await rows<{ id: string }>("SELECT id FROM webhook_endpoints");
    expect(created).toHaveLength(1);
    const originals = answers.filter((a) => a.res.status === 201 && a.res.headers.get("Idempotent-Replayed") === null);
    expect(originals).toHaveLength(1);
    const secret = originals[0]?.body.secret;
    for (const a of answers) {
      if (a.res.status === 201) {
        expect(a.body.id).toBe(created[0]?.id);
        expect(a.body.secret).toBe(secret);
        continue;
      }
      expect(a.res.status).toBe(409);
      expect(a.res.headers.get("Retry-After")).toBe("1");
      expect(JSON.parse(a.text)).toMatchObject({ type: "/problems/idempotency-key-in-use", status: 409 });
    }
    // After the race, every repeat replays.
    const late = await createWith(w, "race-1", json);
    expect(late.res.headers.get("Idempotent-Replayed")).toBe("true");
    expect(late.body.secret).toBe(secret);
  });

  it("a retried rotation returns the same new secret and rotates once", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    const path = `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`;
    const first = await post(w, path, "rotate-1");
    const firstBody = (await first.json()) as { secret: string };
    expect(first.status).toBe(200);
    const again = await post(w, path, "rotate-1");
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(((await again.json()) as { secret: string }).secret).toBe(firstBody.secret);
    expect(firstBody.secret).not.toBe(endpoint.secret);
    // The first secret and one new one: a second rotation would have added a third.
    expect(await rows("SELECT id FROM webhook_secrets WHERE endpoint_id = ?", endpoint.id)).toHaveLength(2);
  });

  it("a retried test or replay queues once and answers the same event ids", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    const test = `/v1/webhook-endpoints/${endpoint.id}/test`;
    const ping = (await (await post(w, test, "ping-1")).json()) as { event_id: string };
    const pingAgain = await post(w, test, "ping-1");
    expect(pingAgain.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await pingAgain.json()).toEqual(ping);
    expect(await rows("SELECT id FROM events")).toEqual([{ id: ping.event_id }]);
    expect(w.queue.sent).toHaveLength(1);

    // An event the endpoint never received, so the replay has something to queue.
    const [{ tenant } = { tenant: "" }] = await rows<{ tenant: string }>("SELECT tenant FROM webhook_endpoints");
    await env.DB.prepare(
      `INSERT INTO events (id, tenant, type, source, object_id, created_at, payload)
       VALUES ('evt_missed', ?, 'run.completed', 'inkit:runs', 'rend_1', ?, '{}')`,
    )
      .bind(tenant, isoMicros(Date.now() - 60_000))
      .run();
    const replay = `/v1/webhook-endpoints/${endpoint.id}/replay`;
    const since = { since: "2020-01-01T00:00:00Z" };
    const replayed = await post(w, replay, "replay-1", since);
    expect(replayed.status).toBe(202);
    const replayedBody = await replayed.json();
    expect(replayedBody).toEqual({ replayed: 1, event_ids: ["evt_missed"] });
    const queued = w.queue.sent.length;
    expect(queued).toBe(2);
    const again = await post(w, replay, "replay-1", since);
    expect(again.status).toBe(202);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.json()).toEqual(replayedBody);
    expect(w.queue.sent).toHaveLength(queued);
  });

  it("a retried poll-only subscription is created once", async () => {
    const w = webhookEnv();
    const first = await post(w, "/v1/event-subscriptions", "sub-1", { sources: ["inkit:runs"] });
    const again = await post(w, "/v1/event-subscriptions", "sub-1", { sources: ["inkit:runs"] });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.headers.get("Location")).toBe(first.headers.get("Location"));
    expect(await again.json()).toEqual(await first.json());
    expect(await rows("SELECT id FROM event_subscriptions")).toHaveLength(1);
  });

  it("without the header every POST runs, as before", async () => {
    const w = webhookEnv();
    const json = { url: consumer.url("idem-none") };
    for (let i = 0; i < 2; i++) {
      const res = await callApp(w, "/v1/webhook-endpoints", { method: "POST", json });
      expect(res.status).toBe(201);
      expect(res.headers.get("Idempotent-Replayed")).toBeNull();
    }
    expect(await rows("SELECT id FROM webhook_endpoints")).toHaveLength(2);
    expect(await keyRows()).toEqual([]);
  });
});

describe("Idempotency-Key: reuse, scope and expiry", () => {
  it("a key reused with another body is a 422 naming the header, and nothing is created", async () => {
    const w = webhookEnv();
    await createWith(w, "reuse-1", { url: consumer.url("idem-a") });
    const res = await post(w, "/v1/webhook-endpoints", "reuse-1", { url: consumer.url("idem-b") });
    const problem = await expectProblem(res, 422, "idempotency-key-reused");
    expect(problem.errors).toEqual([
      { in: "header", name: "idempotency-key", message: "Already used for another request." },
    ]);
    expect(problem.detail).toContain("createWebhookEndpoint");
    expect(await rows("SELECT id FROM webhook_endpoints")).toHaveLength(1);
  });

  it("a key reused on another path of the same operation (another endpoint) is a 422 too", async () => {
    const w = webhookEnv();
    const a = (await createHookEndpoint(w)).endpoint;
    const b = (await createHookEndpoint(w)).endpoint;
    expect((await post(w, `/v1/webhook-endpoints/${a.id}/rotate-secret`, "rotate-x")).status).toBe(200);
    await expectProblem(
      await post(w, `/v1/webhook-endpoints/${b.id}/rotate-secret`, "rotate-x"),
      422,
      "idempotency-key-reused",
    );
    expect(await rows("SELECT id FROM webhook_secrets WHERE endpoint_id = ?", b.id)).toHaveLength(1);
  });

  it("a key belongs to one API key and one operation: elsewhere it is a new key, and never reveals the first answer", async () => {
    const w = webhookEnv();
    const json = { url: consumer.url("idem-scope") };
    const mine = await createWith(w, "shared-key", json);
    const theirs = await createWith(w, "shared-key", json, TEST_API_KEY_2);
    expect(theirs.res.status).toBe(201);
    expect(theirs.res.headers.get("Idempotent-Replayed")).toBeNull();
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.body.secret).not.toBe(mine.body.secret);
    const sub = await post(w, "/v1/event-subscriptions", "shared-key", {});
    expect(sub.status).toBe(201);
    expect(sub.headers.get("Idempotent-Replayed")).toBeNull();
    expect((await keyRows()).map((r) => r.operation).sort()).toEqual([
      "createEventSubscription",
      "createWebhookEndpoint",
      "createWebhookEndpoint",
    ]);
  });

  it("after expiry a key works again: the operation runs anew, with the same or another body", async () => {
    const w = webhookEnv();
    const json = { url: consumer.url("idem-expiry") };
    const first = await createWith(w, "expiring", json);
    const [kept] = await keyRows();
    // Kept for 24 hours from the first request.
    expect(Date.parse(kept?.expires_at ?? "") - Date.parse(kept?.created_at ?? "")).toBe(24 * 3_600_000);

    const expire = () =>
      env.DB.prepare("UPDATE idempotency_keys SET expires_at = ? WHERE idempotency_key = ?")
        .bind(isoMicros(Date.now() - 1000), "expiring")
        .run();
    await expire();
    const second = await createWith(w, "expiring", json);
    expect(second.res.status).toBe(201);
    expect(second.res.headers.get("Idempotent-Replayed")).toBeNull();
    expect(second.body.id).not.toBe(first.body.id);

    await expire();
    const third = await createWith(w, "expiring", { url: consumer.url("idem-expiry-other") });
    expect(third.res.status).toBe(201);
    expect(third.res.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await rows("SELECT id FROM webhook_endpoints")).toHaveLength(3);
    expect(await keyRows()).toHaveLength(1);
  });

  it("the cron deletes expired keys and keeps live ones", async () => {
    const w = webhookEnv();
    await createWith(w, "old", { url: consumer.url("idem-old") });
    await createWith(w, "new", { url: consumer.url("idem-new") });
    await env.DB.prepare("UPDATE idempotency_keys SET expires_at = ? WHERE idempotency_key = 'old'")
      .bind(isoMicros(Date.now() - 1000))
      .run();
    await pruneExpired(w.env);
    expect((await keyRows()).map((r) => r.idempotency_key)).toEqual(["new"]);
  });
});

describe("Idempotency-Key: what is kept", () => {
  it("a secret is never readable in D1: the kept answer is sealed with the deployment key, bound to its key", async () => {
    const w = webhookEnv();
    const created = await createWith(w, "sealed-1", { url: consumer.url("idem-sealed") });
    const rotated = (await (
      await post(w, `/v1/webhook-endpoints/${created.body.id}/rotate-secret`, "sealed-2")
    ).json()) as { secret: string };

    const dump = JSON.stringify(await rows("SELECT * FROM idempotency_keys"));
    for (const secret of [created.body.secret, rotated.secret]) {
      expect(dump).not.toContain(secret.slice("whsec_".length));
      expect(dump).not.toContain(secret.slice("whsec_".length, 20));
    }
    expect(dump).not.toContain("whsec_");

    const kept = await keyRows();
    expect(kept.map((r) => [r.status, r.sealed])).toEqual([
      [201, 1],
      [200, 1],
    ]);
    const row = kept[0] as KeyRow;
    expect(row.body).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const context = JSON.stringify(["idempotency", row.tenant, row.operation, row.idempotency_key]);
    expect(await openSealed(TEST_WEBHOOK_ENCRYPTION_KEY, context, row.body ?? "")).toBe(created.text);
    // Bound to its scope: the row copied under another key, caller or operation does not open.
    const elsewhere = JSON.stringify(["idempotency", row.tenant, row.operation, "another-key"]);
    await expect(openSealed(TEST_WEBHOOK_ENCRYPTION_KEY, elsewhere, row.body ?? "")).rejects.toThrow();
    expect(JSON.parse(row.headers ?? "")).toEqual({
      "Content-Type": "application/json",
      Location: `/v1/webhook-endpoints/${created.body.id}`,
    });
  });

  it("an error answer is not kept: the key is free again, and a retry once the cause is fixed runs", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    await callApp(w, `/v1/webhook-endpoints/${endpoint.id}`, { method: "PATCH", json: { enabled: false } });
    const test = `/v1/webhook-endpoints/${endpoint.id}/test`;
    await expectProblem(await post(w, test, "after-fix"), 400, "validation-error");
    expect(await keyRows()).toEqual([]);
    await callApp(w, `/v1/webhook-endpoints/${endpoint.id}`, { method: "PATCH", json: { enabled: true } });
    const res = await post(w, test, "after-fix");
    expect(res.status).toBe(202);
    expect(res.headers.get("Idempotent-Replayed")).toBeNull();

    const missing = await post(w, "/v1/webhook-endpoints/we_00000000000000000000000000/rotate-secret", "gone");
    await expectProblem(missing, 404, "not-found");
    const noKey = webhookEnv({ WEBHOOK_ENCRYPTION_KEY: "" });
    await expectProblem(
      await post(noKey, "/v1/webhook-endpoints", "no-master", { url: consumer.url("x") }),
      503,
      "service-unavailable",
    );
    expect((await keyRows()).map((r) => r.idempotency_key)).toEqual(["after-fix"]);
  });

  it("409 while the first request runs; a claim whose request died (its lock passed) is taken over by a repeat", async () => {
    const w = webhookEnv();
    const json = { url: consumer.url("idem-running") };
    // Caller.tenant: the API key's SHA-256, truncated (src/http/auth.ts).
    const tenant = (await sha256Hex(TEST_API_KEY)).slice(0, 32);
    const running = (lockedUntil: number, fingerprint: Promise<string>) =>
      fingerprint.then((fp) =>
        env.DB.prepare(
          `INSERT INTO idempotency_keys (tenant, operation, idempotency_key, fingerprint, token, locked_until, created_at, expires_at)
           VALUES (?, 'createWebhookEndpoint', 'running', ?, 'someone-else', ?, ?, ?)`,
        )
          .bind(tenant, fp, isoMicros(lockedUntil), isoMicros(Date.now()), isoMicros(Date.now() + 86_400_000))
          .run(),
      );
    await running(Date.now() + 60_000, fingerprintOf({ param: undefined, json }));
    const busy = await post(w, "/v1/webhook-endpoints", "running", json);
    expect(busy.headers.get("Retry-After")).toBe("1");
    await expectProblem(busy, 409, "idempotency-key-in-use");
    // Another body is a 422 even while the first runs: the key is taken for good.
    await expectProblem(
      await post(w, "/v1/webhook-endpoints", "running", { url: consumer.url("other") }),
      422,
      "idempotency-key-reused",
    );
    expect(await rows("SELECT id FROM webhook_endpoints")).toEqual([]);

    await env.DB.prepare("DELETE FROM idempotency_keys").run();
    await running(Date.now() - 1, fingerprintOf({ param: undefined, json }));
    const taken = await createWith(w, "running", json);
    expect(taken.res.status).toBe(201);
    expect((await keyRows()).map((r) => r.status)).toEqual([201]);
    // A dead claim for another request stays refused.
    await env.DB.prepare("DELETE FROM idempotency_keys").run();
    await running(Date.now() - 1, fingerprintOf({ param: undefined, json: { url: "https://elsewhere.example" } }));
    await expectProblem(await post(w, "/v1/webhook-endpoints", "running", json), 422, "idempotency-key-reused");
  });
});

describe("Idempotency-Key: the answer commits with the operation", () => {
  /** The test database, except that a transaction keeping an answer fails as an overloaded D1 would. */
  const failingRecords = (): D1Database => {
    const keeping = new WeakSet<object>();
    return new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare")
          return (sql: string) => {
            const statement = target.prepare(sql);
            if (sql.trim().startsWith("UPDATE idempotency_keys")) keeping.add(statement);
            return new Proxy(statement, {
              get(inner, name) {
                const value = Reflect.get(inner, name, inner);
                if (name !== "bind" || typeof value !== "function") return value;
                return (...args: unknown[]) => {
                  const bound = value.apply(inner, args);
                  if (keeping.has(statement)) keeping.add(bound);
                  return bound;
                };
              },
            });
          };
        if (prop === "batch")
          return async (statements: D1PreparedStatement[]) => {
            if (statements.some((s) => keeping.has(s))) throw new Error("D1_ERROR: overloaded");
            return target.batch(statements);
          };
        return Reflect.get(target, prop, target);
      },
    });
  };

  it("a write that cannot keep its answer does not happen: a 5xx naming no secret, the key free, a retry creates once", async () => {
    const w = webhookEnv({ DB: failingRecords(), LOG_LEVEL: "debug" });
    const json = { url: consumer.url("idem-d1-down") };
    const { result, lines } = await captureLogs(() => post(w, "/v1/webhook-endpoints", "unrecorded", json));
    expect(result.status).toBeGreaterThanOrEqual(500);
    await expectProblem(result, result.status);
    expect(await rows("SELECT id FROM webhook_endpoints")).toHaveLength(0);
    expect(await rows("SELECT id FROM webhook_secrets")).toHaveLength(0);
    expect(await keyRows()).toHaveLength(0);
    expect(lines.join("\n")).not.toContain("whsec_");
    // The retry runs once, and its own retry replays it.
    const retried = await createWith(webhookEnv(), "unrecorded", json);
    expect(retried.res.status).toBe(201);
    const again = await createWith(webhookEnv(), "unrecorded", json);
    expect(again.res.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.body.secret).toBe(retried.body.secret);
    expect(await rows("SELECT id FROM webhook_endpoints")).toEqual([{ id: retried.body.id }]);
  });

  it("a failure after the commit (the queue send) does not make a retry act twice: it replays the committed answer", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    const test = `/v1/webhook-endpoints/${endpoint.id}/test`;
    const down = webhookEnv({
      WEBHOOK_QUEUE: {
        send: async () => Promise.reject(new Error("queue unavailable")),
        sendBatch: async () => Promise.reject(new Error("queue unavailable")),
      },
    });
    const failed = await post(down, test, "ping-down");
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const [event] = await rows<{ id: string }>("SELECT id FROM events WHERE type = 'ping'");
    expect(event).toBeDefined();
    // The retry replays what committed: the same event, not a second ping. (The sweep queues its delivery.)
    const retried = await post(w, test, "ping-down");
    expect(retried.status).toBe(202);
    expect(retried.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await retried.json()).toEqual({ event_id: event?.id });
    expect(await rows("SELECT id FROM events WHERE type = 'ping'")).toHaveLength(1);
    expect(await rows("SELECT event_id FROM deliveries")).toEqual([{ event_id: event?.id }]);
  });
});

describe("Idempotency-Key: bad keys", () => {
  it.each([
    ["empty", ""],
    ["over 255 characters", "k".repeat(256)],
    ["not ASCII", "clé-1"],
    ["a control character", "tab\there"],
  ])("400 naming the header for a key %s", async (_what, key) => {
    const w = webhookEnv();
    const res = await callApp(w, "/v1/webhook-endpoints", {
      method: "POST",
      headers: { "Idempotency-Key": key },
      json: { url: consumer.url("idem-bad") },
    });
    const problem = await expectProblem(res, 400, "validation-error");
    expect(problem.errors?.map((e) => [e.in, e.name])).toEqual([["header", "idempotency-key"]]);
    expect(problem.detail).toContain("idempotency-key");
    expect(await rows("SELECT id FROM webhook_endpoints")).toEqual([]);
  });

  it("accepts 255 printable ASCII characters, spaces and quotes included (the draft's quoted form is just a key)", async () => {
    const w = webhookEnv();
    for (const key of ["k".repeat(255), '"8e03978e-40d5-43e8-bc93-6894a57f9324"', "a key ~!@#$%^&*()"]) {
      const res = await post(w, "/v1/event-subscriptions", key, {});
      expect(res.status, key).toBe(201);
    }
  });
});
