// Connections: a tenant's own upstream accounts, checked when saved, sealed, used by listings, marked invalid once
// when the upstream rejects them, and brought back by a working credential.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_ACCOUNT_IDS, EIGHT_BY_EIGHT_API_KEYS, INKIT_API_TOKENS } from "../../simulator/credentials";
import { forgetConnections } from "../../src/connections/resolve";
import { ConnectionSchema } from "../../src/schemas/connection";
import { TEST_API_KEY_2 } from "../setup/bindings";
import { countingD1 } from "../support/d1-count";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, mutationsOf } from "../support/simulator";
import { callAppJson, resetWebhookStore, rows, runCron, webhookEnv } from "../support/webhooks";
import { call, callJson } from "../support/worker";

interface Connection {
  id: string;
  provider: string;
  status: string;
  last_error: string | null;
  account_id: string | null;
}

const inkitToken = (tag: string) => `${INKIT_API_TOKENS.other}~${tag}`;

const post = (body: unknown) => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

const connect = (body: unknown) => callJson<Connection>("/v1/connections", post(body));

const inkitCalls = async () => (await inkitSim.counters()).total;
const inkit = mutationsOf(inkitSim);
const revokeInkit = (credential: string) => inkit.revoke(credential);

beforeEach(async () => {
  await resetWebhookStore();
});

describe("saving a connection", () => {
  it("checks the credential with one upstream call, stores it sealed, and never shows it", async () => {
    await inkitSim.clearCounters();
    const token = inkitToken("save");
    const { res, body } = await connect({ provider: "inkit", name: "Globex", credentials: { api_token: token } });
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(ConnectionSchema.parse(body)).toMatchObject({ provider: "inkit", status: "active", name: "Globex" });
    expect(res.headers.get("Location")).toBe(`/v1/connections/${body.id}`);
    expect(await inkitCalls()).toBe(1);
    expect(JSON.stringify(body)).not.toContain(token);
    const [row] = await rows<{ sealed: string; key_id: string }>("SELECT sealed, key_id FROM connections");
    expect(row?.key_id).toBe("k2");
    expect(row?.sealed).not.toContain(token);
    const got = await callJson<Connection>(`/v1/connections/${body.id}`);
    expect(got.res.status).toBe(200);
    expect(got.body).toEqual(body);
  });

  it("refuses a credential the upstream rejects with a 422 naming the provider, and stores nothing", async () => {
    const token = inkitToken("revoked");
    await revokeInkit(token);
    const res = await call("/v1/connections", post({ provider: "inkit", credentials: { api_token: token } }));
    const body = await expectProblem(res, 422, "credential-rejected");
    expect(body.detail).toMatch(/Inkit rejected the credential with HTTP 401/);
    expect(JSON.stringify(body)).not.toContain(token);
    expect(await rows("SELECT id FROM connections")).toEqual([]);
  });

  it("saves an 8x8 account's key after the probe", async () => {
    const { res, body } = await connect({
      provider: "8x8",
      account_id: EIGHT_BY_EIGHT_ACCOUNT_IDS.other,
      credentials: { api_key: EIGHT_BY_EIGHT_API_KEYS.other },
    });
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.account_id).toBe(EIGHT_BY_EIGHT_ACCOUNT_IDS.other);
  });
});

describe("reading through a connection", () => {
  it("lists the connection's account, marks it invalid once when its token is revoked, and recovers on a new one", async () => {
    const token = inkitToken("use");
    const { body: conn } = await connect({ provider: "inkit", credentials: { api_token: token } });
    const listed = await callJson<{ data: { id: string }[] }>(`/v1/inkit/runs?limit=5&connection=${conn.id}`);
    expect(listed.res.status, JSON.stringify(listed.body)).toBe(200);
    const truth = (await inkitSim.items({ kind: "run", tenant: "other" })).items.map((r) => r.id);
    expect(listed.body.data.map((r) => r.id).every((id) => truth.includes(id))).toBe(true);

    await revokeInkit(token);
    const refused = await call(`/v1/inkit/runs?limit=5&connection=${conn.id}`, {
      headers: { "Cache-Control": "no-cache" },
    });
    expect((await expectProblem(refused, 409, "connection-invalid")).detail).toContain(conn.id);
    const after = await callJson<Connection>(`/v1/connections/${conn.id}`);
    expect(after.body.status).toBe("invalid");
    expect(after.body.last_error).toMatch(/HTTP 401/);

    // While invalid, a listing answers at once, without an upstream call.
    await inkitSim.clearCounters();
    await expectProblem(await call(`/v1/inkit/runs?limit=5&connection=${conn.id}`), 409, "connection-invalid");
    expect(await inkitCalls()).toBe(0);

    const patched = await callJson<Connection>(`/v1/connections/${conn.id}`, {
      ...post({ credentials: { api_token: inkitToken("rotated") } }),
      method: "PATCH",
    });
    expect(patched.res.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.status).toBe("active");
    const back = await callJson(`/v1/inkit/runs?limit=5&connection=${conn.id}`, {
      headers: { "Cache-Control": "no-cache" },
    });
    expect(back.res.status).toBe(200);
    const transitions = await rows<{ to_status: string }>(
      "SELECT to_status FROM connection_transitions WHERE connection_id = ? ORDER BY at",
      conn.id,
    );
    expect(transitions.map((t) => t.to_status)).toEqual(["invalid", "active"]);
  });

  it("another API key naming the connection gets a 404", async () => {
    const { body: conn } = await connect({ provider: "inkit", credentials: { api_token: inkitToken("own") } });
    await expectProblem(await call(`/v1/inkit/runs?connection=${conn.id}`, { auth: TEST_API_KEY_2 }), 404, "not-found");
    await expectProblem(await call(`/v1/connections/${conn.id}`, { auth: TEST_API_KEY_2 }), 404, "not-found");
  });

  it("reads an 8x8 definition of the connection's own account", async () => {
    const { body: conn } = await connect({
      provider: "8x8",
      account_id: EIGHT_BY_EIGHT_ACCOUNT_IDS.other,
      credentials: { api_key: EIGHT_BY_EIGHT_API_KEYS.other },
    });
    const definitions = await eightByEightSim.getDefinitions("other");
    const definition = definitions.definitions[0]?.id as string;
    const path = `/v1/8x8/accounts/${EIGHT_BY_EIGHT_ACCOUNT_IDS.other}/definitions/${definition}/runs`;
    const listed = await callJson<{ data: unknown[] }>(`${path}?limit=3&connection=${conn.id}`);
    expect(listed.res.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.data.length).toBe(3);
    const wrongAccount = await call(
      `/v1/8x8/accounts/${EIGHT_BY_EIGHT_ACCOUNT_IDS.demo}/definitions/${definition}/runs?connection=${conn.id}`,
    );
    await expectProblem(wrongAccount, 400, "validation-error");
  });
});

describe("change detection through a connection", () => {
  it("watches the connection's account, pauses without calls while invalid, and reports what changed meanwhile", async () => {
    const w = webhookEnv();
    const token = inkitToken("watch");
    const created = await callAppJson<Connection>(w, "/v1/connections", {
      method: "POST",
      json: { provider: "inkit", credentials: { api_token: token } },
    });
    const conn = created.body;
    const source = `inkit:runs@${conn.id}`;
    const sub = await callAppJson(w, "/v1/event-subscriptions", { method: "POST", json: { sources: [source] } });
    expect(sub.res.status, JSON.stringify(sub.body)).toBe(201);
    await runCron(w); // baseline
    await inkit.insert({ kind: "run", count: 2, tenant: "other" });
    await runCron(w);
    const events = async () =>
      (await callAppJson<{ data: { type: string; source: string | null }[] }>(w, "/v1/event-stream?limit=100")).body
        .data;
    const first = await events();
    expect(first.filter((e) => e.type === "run.created").length).toBe(2);
    expect(first.every((e) => e.source === source)).toBe(true);

    await inkit.revoke(token);
    await inkit.insert({ kind: "run", count: 1, tenant: "other" });
    await runCron(w); // rejected: the connection becomes invalid, one event
    await inkitSim.clearCounters();
    await runCron(w);
    await runCron(w);
    expect((await inkitSim.counters()).total).toBe(0);
    const invalid = (await events()).filter((e) => e.type === "connection.invalid");
    expect(invalid.length).toBe(1);

    const patched = await callAppJson<Connection>(w, `/v1/connections/${conn.id}`, {
      method: "PATCH",
      json: { credentials: { api_token: inkitToken("watch-2") } },
    });
    expect(patched.body.status).toBe("active");
    await runCron(w);
    const all = await events();
    expect(all.filter((e) => e.type === "run.created").length).toBe(3);
    expect(all.filter((e) => e.type === "connection.recovered").length).toBe(1);
  });
});

describe("what resolving a connection costs a listing", () => {
  it("one D1 read on a cold isolate, none on a warm one, and no upstream call beyond the listing's own", async () => {
    const { body: conn } = await connect({ provider: "inkit", credentials: { api_token: inkitToken("cost") } });
    const d1 = countingD1(env.DB);
    const w = webhookEnv({ DB: d1.binding });
    forgetConnections();
    const listing = `/v1/inkit/runs?limit=5&connection=${conn.id}`;

    await inkitSim.clearCounters();
    const cold = await callAppJson(w, listing, { headers: { "Cache-Control": "no-cache" } });
    expect(cold.res.status).toBe(200);
    const coldCalls = (await inkitSim.counters()).total;
    // The connection's row, read once (its one SELECT); its first use is recorded in the background.
    expect([...d1.count.log].sort()).toEqual(["SELECT * FROM", "UPDATE connections SET"]);

    d1.reset();
    await inkitSim.clearCounters();
    const warm = await callAppJson(w, listing, { headers: { "Cache-Control": "no-cache" } });
    expect(warm.res.status).toBe(200);
    expect(d1.count.log).toEqual([]);
    // The same upstream calls as the cold request: resolving costs none.
    expect((await inkitSim.counters()).total).toBe(coldCalls);
    console.log(
      `connection resolution: cold ${1} D1 read + 1 background write (last_used_at), warm 0 D1 round trips; upstream calls per page ${coldCalls} either way`,
    );
  });
});
