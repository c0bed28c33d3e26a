import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { endpointsWatching, watchedSources } from "../../src/detection/store";
import { EventSubscriptionSchema } from "../../src/schemas/event-subscription";
import { TEST_API_KEY_2 } from "../setup/bindings";
import { expectProblem } from "../support/problem";
import { inkitSim, resetSimulators } from "../support/simulator";
import {
  callApp,
  callAppJson,
  createHookEndpoint,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

// Poll-only subscriptions: a webhook endpoint without a URL. Detection records events for their tenant; nothing is
// delivered; the events are read with GET /v1/event-stream.

const DEFINITION = "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14";

interface Subscription {
  id: string;
  description: string | null;
  event_types: string[] | null;
  sources: string[];
  created_at: string;
  updated_at: string;
}

interface Page<T> {
  data: T[];
  page: { has_more: boolean; next_cursor: string | null; prev_cursor: string | null; total: number | null };
}

async function subscribe(w: WebhookEnv, json: unknown = {}, auth?: string) {
  const { res, body } = await callAppJson<Subscription>(w, "/v1/event-subscriptions", {
    method: "POST",
    json,
    ...(auth ? { auth } : {}),
  });
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

describe("event subscriptions: CRUD", () => {
  it("201 with a Location and the endpoints' defaults: every Inkit source, DEFAULT_SOURCES' 8x8 ones, every type", async () => {
    const w = webhookEnv();
    const { res, body } = await callAppJson<Subscription>(w, "/v1/event-subscriptions", {
      method: "POST",
      json: { description: "warehouse" },
    });
    expect(res.status).toBe(201);
    expect(body.id).toMatch(/^sub_[0-9A-Z]{26}$/);
    expect(res.headers.get("Location")).toBe(`/v1/event-subscriptions/${body.id}`);
    expect(body).toMatchObject({
      sources: ["inkit:runs", "inkit:workflow-batches", "inkit:batches", `8x8:acme-ops/${DEFINITION}`],
      event_types: null,
      description: "warehouse",
    });
    EventSubscriptionSchema.parse(body);
    expect((await callAppJson(w, `/v1/event-subscriptions/${body.id}`)).body).toEqual(body);
  });

  it("validates like endpoints: canonical sources, each once; subscribable types, each once; no url, no unknown field", async () => {
    const w = webhookEnv();
    const created = await subscribe(w, { sources: ["inkit", `8x8:acme-ops/${DEFINITION.toUpperCase()}`] });
    expect(created.sources).toEqual(["inkit:runs", `8x8:acme-ops/${DEFINITION}`]);
    for (const [json, field] of [
      [{ sources: ["inkit", "inkit:runs"] }, "sources"],
      [{ sources: [] }, "sources"],
      [{ sources: ["inkit:nope"] }, "sources.0"],
      [{ event_types: ["ping"] }, "event_types.0"],
      [{ event_types: ["run.failed", "run.failed"] }, "event_types"],
      [{ url: "https://hooks.example.com/x" }, "url"],
      [{ description: "x".repeat(501) }, "description"],
    ] as const) {
      const res = await callApp(w, "/v1/event-subscriptions", { method: "POST", json });
      const problem = await expectProblem(res, 400, "validation-error");
      expect(
        problem.errors?.map((e) => e.name),
        JSON.stringify(json),
      ).toContain(field);
    }
  });

  it("lists newest first with the list contract; PATCH changes only the given fields; DELETE removes it", async () => {
    const w = webhookEnv();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await subscribe(w, { sources: ["inkit:runs"] })).id);
    const first = await callAppJson<Page<Subscription>>(w, "/v1/event-subscriptions?limit=2");
    expect(first.body.data.map((s) => s.id)).toEqual(ids.toReversed().slice(0, 2));
    expect(first.body.page).toMatchObject({ has_more: true, prev_cursor: null, total: null });
    const second = await callAppJson<Page<Subscription>>(
      w,
      `/v1/event-subscriptions?cursor=${encodeURIComponent(first.body.page.next_cursor ?? "")}`,
    );
    expect(second.body.data.map((s) => s.id)).toEqual([ids[0]]);
    expect(second.body.page.next_cursor).toBeNull();

    const id = ids[0] as string;
    const patch = (json: unknown) =>
      callAppJson<Subscription>(w, `/v1/event-subscriptions/${id}`, { method: "PATCH", json });
    const a = await patch({ description: "renamed", event_types: ["run.completed"] });
    expect(a.res.status).toBe(200);
    expect(a.body).toMatchObject({ description: "renamed", event_types: ["run.completed"], sources: ["inkit:runs"] });
    const b = await patch({ event_types: null, sources: ["inkit:batches"] });
    expect(b.body).toMatchObject({ description: "renamed", event_types: null, sources: ["inkit:batches"] });
    await expectProblem(
      await callApp(w, `/v1/event-subscriptions/${id}`, { method: "PATCH", json: { enabled: false } }),
      400,
    );

    expect((await callApp(w, `/v1/event-subscriptions/${id}`, { method: "DELETE" })).status).toBe(204);
    await expectProblem(await callApp(w, `/v1/event-subscriptions/${id}`), 404, "not-found");
  });

  it("keeps tenants apart: another API key neither sees nor changes a subscription", async () => {
    const w = webhookEnv();
    const sub = await subscribe(w);
    expect(
      (await callAppJson<Page<Subscription>>(w, "/v1/event-subscriptions", { auth: TEST_API_KEY_2 })).body.data,
    ).toEqual([]);
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const res = await callApp(w, `/v1/event-subscriptions/${sub.id}`, {
        method,
        auth: TEST_API_KEY_2,
        ...(method === "PATCH" ? { json: { description: "mine now" } } : {}),
      });
      await expectProblem(res, 404, "not-found");
    }
    expect((await callAppJson<Subscription>(w, `/v1/event-subscriptions/${sub.id}`)).body).toEqual(sub);
  });
});

describe("event subscriptions: what change detection sees", () => {
  it("watchedSources includes the subscriptions' sources, each once, beside the enabled endpoints'", async () => {
    const w = webhookEnv();
    await subscribe(w, { sources: ["inkit:batches", "inkit:runs"] });
    const { endpoint } = await createHookEndpoint(w, { sources: ["inkit:runs", "inkit:workflow-batches"] });
    expect(await watchedSources(env.DB)).toEqual(["inkit:batches", "inkit:runs", "inkit:workflow-batches"]);
    await callApp(w, `/v1/webhook-endpoints/${endpoint.id}`, { method: "PATCH", json: { enabled: false } });
    expect(await watchedSources(env.DB)).toEqual(["inkit:batches", "inkit:runs"]);
  });

  it("endpointsWatching returns endpoints (delivers 1) and subscriptions (delivers 0, always enabled) of a source", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w, { sources: ["inkit:runs"] });
    const sub = await subscribe(w, { sources: ["inkit:runs"], event_types: ["run.failed"] }, TEST_API_KEY_2);
    await subscribe(w, { sources: ["inkit:batches"] });
    const watching = await endpointsWatching(env.DB, "inkit:runs");
    expect(watching.map(({ id, enabled, delivers, event_types }) => ({ id, enabled, delivers, event_types }))).toEqual([
      { id: endpoint.id, enabled: 1, delivers: 1, event_types: null },
      { id: sub.id, enabled: 1, delivers: 0, event_types: '["run.failed"]' },
    ]);
    const [, subRow] = watching;
    expect(subRow?.tenant).not.toBe(watching[0]?.tenant);
    expect((await endpointsWatching(env.DB, "inkit:batches")).map((r) => r.delivers)).toEqual([0]);
  });

  it("with only a subscription, detection polls its source and records its tenant's events, readable by the stream", async () => {
    const w = webhookEnv();
    await subscribe(w, { sources: ["inkit:runs"] });
    await runCron(w); // baseline
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 2 });
    await runCron(w);
    const { body } = await callAppJson<Page<{ type: string; data: { object: { id: string } } }>>(w, "/v1/event-stream");
    expect(body.data.map((e) => e.type)).toEqual(["run.created", "run.created"]);
    expect(body.data.map((e) => e.data.object.id).sort()).toEqual(items.map((i) => i.id).sort());
  });

  // Change detection records the events of every tenant that subscribes, and delivers only to webhook endpoints.
  it("nothing is delivered for a subscription", async () => {
    const w = webhookEnv();
    await subscribe(w, { sources: ["inkit:runs"] });
    await runCron(w);
    await inkitSim.insert({ kind: "run", count: 1 });
    await runCron(w);
    expect(await rows("SELECT event_id FROM events e JOIN deliveries d ON d.event_id = e.id")).toEqual([]);
    expect(w.queue.sent).toEqual([]);
  });
});
