import { beforeEach, describe, expect, it } from "vitest";
import { openSecret } from "../../src/delivery/signing";
import { EVENT_TYPES } from "../../src/schemas/events";
import { WebhookEndpointSchema } from "../../src/schemas/webhook-endpoint";
import { TEST_API_KEY_2, TEST_WEBHOOK_ENCRYPTION_KEY } from "../setup/bindings";
import { expectProblem } from "../support/problem";
import {
  type CreatedEndpoint,
  callApp,
  callAppJson,
  consumer,
  createHookEndpoint,
  resetWebhookStore,
  rows,
  webhookEnv,
} from "../support/webhooks";

const DEFINITION = "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14";

interface Page {
  data: { id: string; created_at: string }[];
  page: { has_more: boolean; next_cursor: string | null; prev_cursor: string | null; total: number | null };
}

beforeEach(resetWebhookStore);

describe("webhook endpoints: create", () => {
  it("201 with the secret (once), a Location, and defaults: every Inkit source, DEFAULT_SOURCES' 8x8 ones, every type", async () => {
    const w = webhookEnv();
    const { res, body } = await callAppJson<CreatedEndpoint & { created_at: string }>(w, "/v1/webhook-endpoints", {
      method: "POST",
      json: { url: consumer.url("create"), description: "orders" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/webhook-endpoints/${body.id}`);
    expect(body.id).toMatch(/^we_[0-9A-Z]{26}$/);
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(body.secret.slice(6)).length).toBe(32);
    expect(body).toMatchObject({
      // test/setup/bindings.ts sets DEFAULT_SOURCES to "inkit,8x8:acme-ops/<orderNotifications>".
      sources: ["inkit:runs", "inkit:workflow-batches", "inkit:batches", `8x8:acme-ops/${DEFINITION}`],
      event_types: null,
      enabled: true,
      disabled_reason: null,
      description: "orders",
    });
    const { secret: _secret, ...endpoint } = body;
    WebhookEndpointSchema.parse(endpoint);

    const again = await callAppJson<Record<string, unknown>>(w, `/v1/webhook-endpoints/${body.id}`);
    expect(again.res.status).toBe(200);
    expect(again.body).not.toHaveProperty("secret");
    expect(again.body).toEqual(endpoint);
    const etag = again.res.headers.get("ETag") ?? "";
    expect(etag).toMatch(/^"/);
    const unchanged = await callApp(w, `/v1/webhook-endpoints/${body.id}`, { headers: { "If-None-Match": etag } });
    expect(unchanged.status).toBe(304);
  });

  it("stores the secret encrypted: the row alone cannot sign, and only the deployment key decrypts it", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    const [stored] = await rows<{ ciphertext: string }>(
      "SELECT ciphertext FROM webhook_secrets WHERE endpoint_id = ?",
      endpoint.id,
    );
    const dump = JSON.stringify(await rows("SELECT * FROM webhook_secrets"));
    expect(dump).not.toContain(endpoint.secret.slice(6));
    expect(await openSecret(TEST_WEBHOOK_ENCRYPTION_KEY, endpoint.id, stored?.ciphertext ?? "")).toBe(endpoint.secret);
    await expect(
      openSecret("another-key-0123456789abcdef-0123456789", endpoint.id, stored?.ciphertext ?? ""),
    ).rejects.toThrow();
    // Bound to its endpoint: copying the row to another endpoint does not make it usable there.
    await expect(openSecret(TEST_WEBHOOK_ENCRYPTION_KEY, "we_other", stored?.ciphertext ?? "")).rejects.toThrow();
  });

  it("canonicalizes 8x8 source keys and accepts event type filters", async () => {
    const w = webhookEnv();
    const { res, body } = await callAppJson<CreatedEndpoint>(w, "/v1/webhook-endpoints", {
      method: "POST",
      json: {
        url: consumer.url("canon"),
        sources: [`8x8:acme-ops/${DEFINITION.toUpperCase()}`, "inkit:runs"],
        event_types: ["run.completed", "run.failed"],
      },
    });
    expect(res.status).toBe(201);
    expect(body.sources).toEqual([`8x8:acme-ops/${DEFINITION}`, "inkit:runs"]);
    expect(body.event_types).toEqual(["run.completed", "run.failed"]);
  });

  it("accepts the feed's `inkit` as `inkit:runs` on create and PATCH, and answers and stores the canonical form", async () => {
    const w = webhookEnv();
    const created = await callAppJson<CreatedEndpoint>(w, "/v1/webhook-endpoints", {
      method: "POST",
      json: { url: consumer.url("alias"), sources: ["inkit", "inkit:batches"] },
    });
    expect(created.res.status).toBe(201);
    expect(created.body.sources).toEqual(["inkit:runs", "inkit:batches"]);
    const patched = await callAppJson<CreatedEndpoint>(w, `/v1/webhook-endpoints/${created.body.id}`, {
      method: "PATCH",
      json: { sources: [`8x8:acme-ops/${DEFINITION}`, "inkit"] },
    });
    expect(patched.res.status).toBe(200);
    expect(patched.body.sources).toEqual([`8x8:acme-ops/${DEFINITION}`, "inkit:runs"]);
    expect(await rows("SELECT sources FROM webhook_endpoints")).toEqual([
      { sources: JSON.stringify([`8x8:acme-ops/${DEFINITION}`, "inkit:runs"]) },
    ]);
    const events = await callApp(w, "/v1/events?source=inkit");
    expect(events.status).toBe(200);
  });

  it("400 when `inkit` and `inkit:runs` name the same source twice", async () => {
    const problem = await expectProblem(
      await callApp(webhookEnv(), "/v1/webhook-endpoints", {
        method: "POST",
        json: { url: consumer.url("twice"), sources: ["inkit", "inkit:runs"] },
      }),
      400,
      "validation-error",
    );
    expect(problem.errors?.map((e) => e.name)).toContain("sources");
  });

  it.each([
    [{ url: "https://hooks.example.com/x", sources: ["inkit:everything"] }, "sources.0"],
    [{ url: "https://hooks.example.com/x", sources: [] }, "sources"],
    [{ url: "https://hooks.example.com/x", event_types: ["ping"] }, "event_types.0"],
    [{ url: "https://hooks.example.com/x", event_types: ["run.completed", "run.completed"] }, "event_types"],
    [{ url: "https://hooks.example.com/x", secret: "whsec_mine" }, "secret"],
    [{ sources: ["inkit:runs"] }, "url"],
  ])("400 naming the field for %j", async (json, field) => {
    const problem = await expectProblem(
      await callApp(webhookEnv(), "/v1/webhook-endpoints", { method: "POST", json }),
      400,
      "validation-error",
    );
    expect(problem.errors?.map((e) => e.name)).toContain(field);
  });

  it("503 when the deployment has no WEBHOOK_ENCRYPTION_KEY: it cannot keep secrets", async () => {
    const w = webhookEnv({ WEBHOOK_ENCRYPTION_KEY: "" });
    const res = await callApp(w, "/v1/webhook-endpoints", { method: "POST", json: { url: consumer.url("x") } });
    await expectProblem(res, 503, "service-unavailable");
    expect(await rows("SELECT id FROM webhook_endpoints")).toEqual([]);
  });
});

describe("webhook endpoints: list, get, update, delete", () => {
  it("lists with the same cursor contract as every list: newest first, Link header, prev/next", async () => {
    const w = webhookEnv();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.unshift((await createHookEndpoint(w)).endpoint.id);
    const first = await callAppJson<Page>(w, "/v1/webhook-endpoints?limit=2");
    expect(first.res.status).toBe(200);
    expect(first.body.data.map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect(first.body.page.has_more).toBe(true);
    expect(first.body.page.prev_cursor).toBeNull();
    expect(first.res.headers.get("Link")).toContain('rel="next"');
    for (const item of first.body.data) WebhookEndpointSchema.parse(item);

    // An endpoint created mid-walk neither shifts nor repeats the walk.
    await createHookEndpoint(w);
    const seen = [...first.body.data.map((e) => e.id)];
    let cursor = first.body.page.next_cursor;
    let last: Page | null = null;
    while (cursor) {
      const next = await callAppJson<Page>(w, `/v1/webhook-endpoints?cursor=${encodeURIComponent(cursor)}`);
      expect(next.res.status).toBe(200);
      seen.push(...next.body.data.map((e) => e.id));
      last = next.body;
      cursor = next.body.page.next_cursor;
    }
    expect(seen).toEqual(ids);
    expect(last?.page.prev_cursor).not.toBeNull();

    const back = await callAppJson<Page>(
      w,
      `/v1/webhook-endpoints?cursor=${encodeURIComponent(last?.page.prev_cursor ?? "")}`,
    );
    expect(back.body.data.map((e) => e.id)).toEqual(ids.slice(2, 4));
  });

  it("rejects a cursor from another listing as invalid-cursor", async () => {
    const w = webhookEnv();
    for (let i = 0; i < 3; i++) await createHookEndpoint(w);
    const { body } = await callAppJson<Page>(w, "/v1/webhook-endpoints?limit=1");
    const res = await callApp(w, `/v1/events?cursor=${encodeURIComponent(body.page.next_cursor ?? "")}`);
    await expectProblem(res, 400, "invalid-cursor");
  });

  it("keeps tenants apart: another API key neither sees nor changes an endpoint", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    const mine = await callAppJson<Page>(w, "/v1/webhook-endpoints");
    expect(mine.body.data.map((e) => e.id)).toEqual([endpoint.id]);
    const theirs = await callAppJson<Page>(w, "/v1/webhook-endpoints", { auth: TEST_API_KEY_2 });
    expect(theirs.body.data).toEqual([]);
    for (const [method, path] of [
      ["GET", ""],
      ["PATCH", ""],
      ["DELETE", ""],
      ["POST", "/rotate-secret"],
      ["POST", "/test"],
    ] as const) {
      const res = await callApp(w, `/v1/webhook-endpoints/${endpoint.id}${path}`, {
        method,
        auth: TEST_API_KEY_2,
        ...(method === "PATCH" ? { json: { enabled: false } } : {}),
      });
      await expectProblem(res, 404, "not-found");
    }
    expect((await callAppJson<CreatedEndpoint>(w, `/v1/webhook-endpoints/${endpoint.id}`)).body.enabled).toBe(true);
  });

  it("PATCH changes only the given fields; enabled:false is a manual disable, enabled:true clears it", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    const patch = (json: unknown) =>
      callAppJson<CreatedEndpoint & { description: string | null }>(w, `/v1/webhook-endpoints/${endpoint.id}`, {
        method: "PATCH",
        json,
      });
    const a = await patch({ description: "renamed", event_types: ["batch.completed"] });
    expect(a.res.status).toBe(200);
    expect(a.body).toMatchObject({ description: "renamed", event_types: ["batch.completed"], url: endpoint.url });
    const b = await patch({ enabled: false });
    expect(b.body).toMatchObject({ enabled: false, disabled_reason: "manual", description: "renamed" });
    const c = await patch({ enabled: true, event_types: null, description: null });
    expect(c.body).toMatchObject({ enabled: true, disabled_reason: null, event_types: null, description: null });
    await expectProblem(
      await callApp(w, `/v1/webhook-endpoints/${endpoint.id}`, {
        method: "PATCH",
        json: { url: "ftp://x.example.com" },
      }),
      400,
      "validation-error",
    );
  });

  it("DELETE answers 204, then the endpoint and its secrets are gone", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    const res = await callApp(w, `/v1/webhook-endpoints/${endpoint.id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    await expectProblem(await callApp(w, `/v1/webhook-endpoints/${endpoint.id}`), 404, "not-found");
    expect(await rows("SELECT id FROM webhook_secrets WHERE endpoint_id = ?", endpoint.id)).toEqual([]);
  });
});

describe("event log", () => {
  it("lists a tenant's events newest first, filters by type and time, and 404s other tenants' events", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { body } = await callAppJson<{ event_id: string }>(w, `/v1/webhook-endpoints/${endpoint.id}/test`, {
        method: "POST",
      });
      ids.unshift(body.event_id);
    }
    const all = await callAppJson<{ data: { id: string; type: string }[] }>(w, "/v1/events");
    expect(all.body.data.map((e) => e.id)).toEqual(ids);
    expect(all.body.data.every((e) => e.type === "ping")).toBe(true);
    expect((await callAppJson<Page>(w, "/v1/events?type=run.created")).body.data).toEqual([]);
    expect((await callAppJson<Page>(w, "/v1/events?type=ping&limit=2")).body.data.map((e) => e.id)).toEqual(
      ids.slice(0, 2),
    );
    expect((await callAppJson<Page>(w, "/v1/events?created_from=2999-01-01T00:00:00Z")).body.data).toEqual([]);
    expect((await callAppJson<Page>(w, "/v1/events?created_to=2000-01-01T00:00:00Z")).body.data).toEqual([]);

    const one = await callAppJson<{ id: string; data: { object: { endpoint_id: string } } }>(w, `/v1/events/${ids[0]}`);
    expect(one.res.status).toBe(200);
    expect(one.body.data.object.endpoint_id).toBe(endpoint.id);
    await expectProblem(await callApp(w, `/v1/events/${ids[0]}`, { auth: TEST_API_KEY_2 }), 404, "not-found");
    await expectProblem(await callApp(w, `/v1/events/${ids[0]}/attempts`, { auth: TEST_API_KEY_2 }), 404, "not-found");
    expect((await callAppJson<Page>(w, "/v1/events", { auth: TEST_API_KEY_2 })).body.data).toEqual([]);
    await expectProblem(await callApp(w, "/v1/events?type=nope"), 400, "validation-error");
    await expectProblem(await callApp(w, "/v1/events?created_from=2026-11-01T00:00Z"), 400, "validation-error");
    const replay = await callApp(w, `/v1/webhook-endpoints/${endpoint.id}/replay`, {
      method: "POST",
      json: { since: "2026-11-01T00:00:00Z", until: "2026-10-01T00:00:00Z" },
    });
    expect((await expectProblem(replay, 400, "validation-error")).errors?.[0]?.name).toBe("until");
  });

  it("documents every event type as an OpenAPI 3.1 webhook with the three Standard Webhooks headers", async () => {
    const doc = (await (await callApp(webhookEnv(), "/openapi.json", { auth: false })).json()) as {
      webhooks: Record<string, { post: { parameters: { name: string }[]; requestBody: unknown } }>;
    };
    expect(Object.keys(doc.webhooks).sort()).toEqual([...EVENT_TYPES].sort());
    for (const hook of Object.values(doc.webhooks)) {
      expect(hook.post.parameters.map((p) => p.name)).toEqual(["webhook-id", "webhook-timestamp", "webhook-signature"]);
      expect(hook.post.requestBody).toBeDefined();
    }
  });
});
