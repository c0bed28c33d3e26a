// A connection's lifecycle events: `connection.invalid` exactly once however many reads are refused at the same time,
// `connection.recovered` after a working credential is patched in or a test finds the stored one accepted again, and
// `connection.deleted` on DELETE; delivered by webhook and read from the stream alike, each payload as its schema
// says, numbered in increasing order per connection, and heard only by the connection's own API key.
import { beforeEach, describe, expect, it } from "vitest";
import { INKIT_API_TOKENS } from "../../simulator/credentials";
import { type EventType, eventPayloadSchemas } from "../../src/schemas/events";
import { resetCircuitBreakers } from "../../src/upstream/circuit-breaker";
import { TEST_API_KEY_2 } from "../setup/bindings";
import { expectProblem } from "../support/problem";
import { inkitSim, mutationsOf } from "../support/simulator";
import {
  callApp,
  callAppJson,
  consumer,
  createHookEndpoint,
  drain,
  expectAllVerified,
  payloadOf,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

interface Connection {
  id: string;
  status: string;
  last_error: string | null;
}

interface StreamEvent {
  id: string;
  type: string;
  source: string | null;
  created_at: string;
  sequence: number | null;
  data: { object: { id: string; status: string; last_error: string | null }; previous: { status: string } | null };
}

const CONNECTION_EVENTS = ["connection.invalid", "connection.recovered", "connection.deleted"];
const inkit = mutationsOf(inkitSim);
const inkitToken = (tag: string) => `${INKIT_API_TOKENS.other}~${tag}`;
const noCache = { "Cache-Control": "no-cache" };

beforeEach(async () => {
  await resetWebhookStore();
  resetCircuitBreakers();
});

async function connect(w: WebhookEnv, token: string, auth?: string): Promise<Connection> {
  const { res, body } = await callAppJson<Connection>(w, "/v1/connections", {
    method: "POST",
    json: { provider: "inkit", credentials: { api_token: token } },
    ...(auth ? { auth } : {}),
  });
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

/** A webhook endpoint and a poll-only subscription, both hearing of connection events only. */
async function listeners(w: WebhookEnv, conn: Connection, auth?: string) {
  const sources = [`inkit:runs@${conn.id}`];
  const { hook, endpoint } = await createHookEndpoint(w, { sources, event_types: CONNECTION_EVENTS }, auth);
  const sub = await callAppJson<{ id: string }>(w, "/v1/event-subscriptions", {
    method: "POST",
    json: { sources, event_types: CONNECTION_EVENTS },
    ...(auth ? { auth } : {}),
  });
  expect(sub.res.status, JSON.stringify(sub.body)).toBe(201);
  return { hook, endpoint };
}

/** The whole event stream of the test key (or `auth`'s), oldest first. */
async function stream(w: WebhookEnv, auth?: string): Promise<StreamEvent[]> {
  const all: StreamEvent[] = [];
  let url = "/v1/event-stream?limit=100";
  for (let pages = 0; pages < 20; pages++) {
    const { res, body } = await callAppJson<{ data: StreamEvent[]; page: { has_more: boolean; next_cursor: string } }>(
      w,
      url,
      auth ? { auth } : {},
    );
    expect(res.status, JSON.stringify(body)).toBe(200);
    all.push(...body.data);
    if (!body.page.has_more) return all;
    url = `/v1/event-stream?cursor=${encodeURIComponent(body.page.next_cursor)}`;
  }
  throw new Error("stream too long");
}

/** A stream event as its webhook delivery carries it: parses with the payload schema of its type. */
function expectPayloadSchema(e: StreamEvent) {
  const payload = { type: e.type, timestamp: e.created_at, sequence: e.sequence, data: e.data };
  const parsed = eventPayloadSchemas[e.type as EventType].safeParse(payload);
  expect(parsed.success, `${e.type}: ${parsed.error?.message}`).toBe(true);
}

/** The connection events the hook received and acknowledged, in sequence order. */
async function delivered(w: WebhookEnv, hook: string) {
  await drain(w);
  const received = (await consumer.received(hook)).filter((r) => r.answered === 200);
  if (received.length > 0) expectAllVerified(received);
  return received
    .map((r) => ({ id: r.headers["webhook-id"] as string, payload: payloadOf(r) }))
    .sort((a, b) => (a.payload.sequence ?? 0) - (b.payload.sequence ?? 0));
}

const refusedRead = (w: WebhookEnv, path: string) => callApp(w, path, { headers: noCache });

describe("connection.invalid: once, however many reads are refused at once", () => {
  it("five concurrent listings with a revoked token: every one a 409, one event, by webhook and by stream", async () => {
    const w = webhookEnv();
    const token = inkitToken("five");
    const conn = await connect(w, token);
    const { hook } = await listeners(w, conn);
    await inkit.revoke(token);

    const answers = await Promise.all([
      refusedRead(w, `/v1/inkit/runs?limit=5&connection=${conn.id}`),
      refusedRead(w, `/v1/inkit/runs?limit=7&connection=${conn.id}`),
      refusedRead(w, `/v1/inkit/batches?limit=5&connection=${conn.id}`),
      refusedRead(w, `/v1/inkit/workflow-batches?limit=5&connection=${conn.id}`),
      refusedRead(w, `/v1/runs?limit=5&source=inkit@${conn.id}`),
    ]);
    for (const res of answers) {
      const problem = await expectProblem(res, 409, "connection-invalid");
      expect(problem.detail).toContain(conn.id);
      expect(problem.connection).toBe(conn.id);
      expect(JSON.stringify(problem)).not.toContain(token);
    }

    expect(await rows("SELECT from_status, to_status FROM connection_transitions")).toEqual([
      { from_status: "active", to_status: "invalid" },
    ]);
    // Marked invalid, its credential is kept as it was (a reinstated token brings it back with a test).
    expect(await rows("SELECT sealed IS NOT NULL AS kept, key_id FROM connections")).toEqual([
      { kept: 1, key_id: "k2" },
    ]);
    const events = (await stream(w)).filter((e) => e.type.startsWith("connection."));
    expect(events.map((e) => e.type)).toEqual(["connection.invalid"]);
    const [invalid] = events as [StreamEvent];
    expect(invalid).toMatchObject({
      source: null,
      sequence: 1,
      data: { object: { id: conn.id, status: "invalid" }, previous: { status: "active" } },
    });
    expect(invalid.data.object.last_error).toMatch(/Inkit rejected the credential with HTTP 401/);
    expectPayloadSchema(invalid);

    const hooks = await delivered(w, hook);
    expect(hooks.map((h) => h.payload.type)).toEqual(["connection.invalid"]);
    expect(hooks[0]?.id).toBe(invalid.id);
    expect(hooks[0]?.payload).toEqual({
      type: invalid.type,
      timestamp: invalid.created_at,
      sequence: invalid.sequence,
      data: invalid.data,
    });

    // The connection says so, and a later read answers at once with no upstream call and no second event.
    const got = await callAppJson<Connection>(w, `/v1/connections/${conn.id}`);
    expect(got.body.status).toBe("invalid");
    await inkitSim.clearCounters();
    await expectProblem(await refusedRead(w, `/v1/inkit/runs?connection=${conn.id}`), 409, "connection-invalid");
    expect((await inkitSim.counters()).total).toBe(0);
    expect((await stream(w)).filter((e) => e.type === "connection.invalid")).toHaveLength(1);
  });

  it("five concurrent tests of a revoked token: every one says so, one event", async () => {
    const w = webhookEnv();
    const token = inkitToken("five-tests");
    const conn = await connect(w, token);
    await listeners(w, conn);
    await inkit.revoke(token);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        callAppJson<{ ok: boolean; status: string; detail: string | null }>(w, `/v1/connections/${conn.id}/test`, {
          method: "POST",
        }),
      ),
    );
    for (const { res, body } of answers) {
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ ok: false, status: "invalid" });
      expect(body.detail).toMatch(/HTTP 401/);
    }
    expect((await stream(w)).map((e) => e.type)).toEqual(["connection.invalid"]);
  });

  it("a detection tick refused on three sources of one connection: one event", async () => {
    const w = webhookEnv();
    const token = inkitToken("tick");
    const conn = await connect(w, token);
    const sources = ["runs", "batches", "workflow-batches"].map((l) => `inkit:${l}@${conn.id}`);
    const sub = await callAppJson(w, "/v1/event-subscriptions", { method: "POST", json: { sources } });
    expect(sub.res.status, JSON.stringify(sub.body)).toBe(201);
    await runCron(w); // baselines
    await inkit.revoke(token);
    expect(await runCron(w)).toBe(3);
    await runCron(w);
    const events = (await stream(w)).filter((e) => e.type.startsWith("connection."));
    expect(events.map((e) => e.type)).toEqual(["connection.invalid"]);
    expectPayloadSchema(events[0] as StreamEvent);
  });
});

describe("the lifecycle, event by event", () => {
  it("invalid, recovered by PATCH, invalid, recovered by a test once reinstated, deleted: in order, numbered", async () => {
    const w = webhookEnv();
    const first = inkitToken("life-1");
    const second = inkitToken("life-2");
    const conn = await connect(w, first);
    const { hook } = await listeners(w, conn);
    const path = `/v1/connections/${conn.id}`;

    // No change of status, no event: a test that passes, a rename, a rotation of a working credential.
    const ok = await callAppJson<{ ok: boolean }>(w, `${path}/test`, { method: "POST" });
    expect(ok.body.ok).toBe(true);
    expect((await callApp(w, path, { method: "PATCH", json: { name: "Globex" } })).status).toBe(200);

    // 1. invalid: a test finds the stored token revoked.
    await inkit.revoke(first);
    const failed = await callAppJson<{ ok: boolean; status: string }>(w, `${path}/test`, { method: "POST" });
    expect(failed.body).toMatchObject({ ok: false, status: "invalid" });
    // 2. recovered: a working credential is patched in.
    const patched = await callAppJson<Connection>(w, path, {
      method: "PATCH",
      json: { credentials: { api_token: second } },
    });
    expect(patched.body).toMatchObject({ status: "active", last_error: null });
    // 3. invalid: a listing is refused.
    await inkit.revoke(second);
    await expectProblem(await refusedRead(w, `/v1/inkit/runs?connection=${conn.id}`), 409, "connection-invalid");
    // Still invalid while the token stays revoked: a test says so without a second event.
    const still = await callAppJson<{ ok: boolean }>(w, `${path}/test`, { method: "POST" });
    expect(still.body.ok, JSON.stringify(still.body)).toBe(false);
    // 4. recovered: the token is reinstated upstream, and a test finds it accepted.
    await inkitSim.reinstate(second);
    const back = await callAppJson<{ ok: boolean; status: string; detail: string | null }>(w, `${path}/test`, {
      method: "POST",
    });
    expect(back.body).toMatchObject({ ok: true, status: "active", detail: null });
    expect((await callAppJson<Connection>(w, path)).body).toMatchObject({ status: "active", last_error: null });
    // 5. deleted.
    expect((await callApp(w, path, { method: "DELETE" })).status).toBe(204);

    const events = await stream(w);
    expect(events.map((e) => e.type)).toEqual([
      "connection.invalid",
      "connection.recovered",
      "connection.invalid",
      "connection.recovered",
      "connection.deleted",
    ]);
    expect(events.map((e) => e.data.previous?.status)).toEqual(["active", "invalid", "active", "invalid", "active"]);
    expect(events.map((e) => e.data.object.status)).toEqual(["invalid", "active", "invalid", "active", "deleted"]);
    expect(events.every((e) => e.source === null && e.data.object.id === conn.id)).toBe(true);
    const sequences = events.map((e) => e.sequence as number);
    for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBeGreaterThan(sequences[i - 1] as number);
    for (const e of events) expectPayloadSchema(e);
    expect(events[1]?.data.object.last_error).toBeNull();
    expect(events[4]?.data.object).toMatchObject({ status: "deleted", last_error: null });

    const hooks = await delivered(w, hook);
    expect(hooks.map((h) => h.id)).toEqual(events.map((e) => e.id));
    expect(hooks.map((h) => h.payload.sequence)).toEqual(sequences);
    const transitions = await rows<{ from_status: string; to_status: string }>(
      "SELECT from_status, to_status FROM connection_transitions WHERE connection_id = ? ORDER BY at",
      conn.id,
    );
    expect(transitions.map((t) => `${t.from_status}>${t.to_status}`)).toEqual([
      "active>invalid",
      "invalid>active",
      "active>invalid",
      "invalid>active",
      "active>deleted",
    ]);
  });

  it("two connections number their events each on their own", async () => {
    const w = webhookEnv();
    const a = await connect(w, inkitToken("seq-a"));
    const b = await connect(w, inkitToken("seq-b"));
    await listeners(w, a);
    for (const conn of [a, b, a]) {
      const token = conn === a ? inkitToken("seq-a") : inkitToken("seq-b");
      await inkit.revoke(token);
      await callApp(w, `/v1/connections/${conn.id}/test`, { method: "POST" });
      await inkitSim.reinstate(token);
      await callApp(w, `/v1/connections/${conn.id}/test`, { method: "POST" });
    }
    const events = await stream(w);
    const of = (id: string) => events.filter((e) => e.data.object.id === id).map((e) => e.sequence);
    expect(of(a.id)).toEqual([1, 2, 3, 4]);
    expect(of(b.id)).toEqual([1, 2]);
  });

  it("a connection's events reach only its own API key's endpoints and stream", async () => {
    const w = webhookEnv();
    const mine = await connect(w, inkitToken("mine"));
    const theirs = await connect(w, inkitToken("theirs"), TEST_API_KEY_2);
    const { hook: theirHook } = await listeners(w, theirs, TEST_API_KEY_2);
    const { hook: myHook } = await listeners(w, mine);
    expect((await callApp(w, `/v1/connections/${mine.id}`, { method: "DELETE" })).status).toBe(204);

    expect((await stream(w)).map((e) => e.type)).toEqual(["connection.deleted"]);
    expect(await stream(w, TEST_API_KEY_2)).toEqual([]);
    expect((await delivered(w, myHook)).map((h) => h.payload.type)).toEqual(["connection.deleted"]);
    expect(await consumer.received(theirHook)).toEqual([]);
  });

  it("an endpoint that does not subscribe to connection events hears none of them", async () => {
    const w = webhookEnv();
    const conn = await connect(w, inkitToken("quiet"));
    const { hook } = await createHookEndpoint(w, { sources: [`inkit:runs@${conn.id}`], event_types: ["run.created"] });
    expect((await callApp(w, `/v1/connections/${conn.id}`, { method: "DELETE" })).status).toBe(204);
    await drain(w);
    expect(await consumer.received(hook)).toEqual([]);
    expect(await rows("SELECT id FROM events")).toEqual([]);
  });
});
