// Connections as a demanding API user meets them: bad input is a 400 naming the field, with nothing stored and no
// upstream call; another API key's connection is a 404 wherever it is named; a deleted connection ends the cursors
// and saved feeds that name it with a 404 saying why; a credential is checked with exactly one upstream call when
// saved, and an upstream that cannot be asked stores nothing; a credential is rotated in place (same id, live cursors
// continue) under If-Match; a create is replayed under Idempotency-Key; and the list pages like every list.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  EIGHT_BY_EIGHT_ACCOUNT_IDS,
  EIGHT_BY_EIGHT_API_KEYS,
  EIGHT_BY_EIGHT_DEFINITION_IDS,
  INKIT_API_TOKENS,
} from "../../simulator/credentials";
import { ConnectionSchema } from "../../src/schemas/connection";
import { resetCircuitBreakers } from "../../src/upstream/circuit-breaker";
import { TEST_API_KEY_2 } from "../setup/bindings";
import { expectDeclaredSuccess } from "../support/contract";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, mutationsOf } from "../support/simulator";
import { callApp, callAppJson, consumer, resetWebhookStore, rows, webhookEnv } from "../support/webhooks";

interface Connection {
  id: string;
  provider: "inkit" | "8x8";
  name: string | null;
  account_id: string | null;
  status: string;
  last_error: string | null;
  updated_at: string;
}

interface Page<T = { id: string }> {
  data: T[];
  page: { has_more: boolean; next_cursor: string | null; prev_cursor: string | null };
}

const w = webhookEnv();
const inkit = mutationsOf(inkitSim);
const ebe = mutationsOf(eightByEightSim);

const inkitToken = (tag: string) => `${INKIT_API_TOKENS.other}~${tag}`;
const ebeKey = (tag: string) => `${EIGHT_BY_EIGHT_API_KEYS.other}~${tag}`;
const OTHER_ACCOUNT = EIGHT_BY_EIGHT_ACCOUNT_IDS.other;
const DEMO_ACCOUNT = EIGHT_BY_EIGHT_ACCOUNT_IDS.demo;
const OTHER_DEF = EIGHT_BY_EIGHT_DEFINITION_IDS.other.supportTriage;
const DEMO_DEF = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.orderNotifications;
const NIL_DEFINITION = "00000000-0000-0000-0000-000000000000";

type Init = Parameters<typeof callApp>[2];
const send = (method: string, path: string, json?: unknown, init: Init = {}) =>
  callApp(w, path, { method, ...(json === undefined ? {} : { json }), ...init });
const sendJson = <T = Connection>(method: string, path: string, json?: unknown, init: Init = {}) =>
  callAppJson<T>(w, path, { method, ...(json === undefined ? {} : { json }), ...init });

async function connectInkit(tag: string, init: Init = {}): Promise<Connection> {
  const { res, body } = await sendJson("POST", "/v1/connections", inkitBody(tag), init);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

async function connect8x8(tag: string, init: Init = {}): Promise<Connection> {
  const json = { provider: "8x8", account_id: OTHER_ACCOUNT, credentials: { api_key: ebeKey(tag) } };
  const { res, body } = await sendJson("POST", "/v1/connections", json, init);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

const inkitBody = (tag: string) => ({ provider: "inkit", credentials: { api_token: inkitToken(tag) } });

/** Every stored column but `last_used_at` (a read may record its use in the background). */
const storedConnections = () =>
  rows(
    "SELECT id, tenant, provider, account_id, name, status, sealed, key_id, last_error, status_changed_at, created_at, updated_at FROM connections ORDER BY id",
  );

const upstreamCalls = async () => (await inkitSim.counters()).total + (await eightByEightSim.counters()).total;

const clearCounters = () => Promise.all([inkitSim.clearCounters(), eightByEightSim.clearCounters()]);

/** Waits until `done` holds (polled every 10 ms, for at most 5 s). */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (const started = Date.now(); !(await done()); ) {
    if (Date.now() - started > 5000) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Asserts a problem names this field in `errors`. */
function namesField(problem: { errors?: { in: string; name: string }[] }, where: string, name: string) {
  expect(problem.errors, JSON.stringify(problem)).toContainEqual(expect.objectContaining({ in: where, name }));
}

beforeEach(async () => {
  await resetWebhookStore();
  resetCircuitBreakers();
});

afterEach(() => {
  resetCircuitBreakers();
});

describe("bad input: a 400 naming the field, nothing stored, no upstream call", () => {
  const long = "t".repeat(5000);
  const cases: { what: string; body: unknown; field: string; secret?: string }[] = [
    { what: "no body fields", body: {}, field: "provider" },
    { what: "an unknown provider", body: { provider: "zapier", credentials: { api_token: "x" } }, field: "provider" },
    { what: "no credentials", body: { provider: "inkit", name: "Globex" }, field: "credentials" },
    {
      what: "an 8x8 connection without account_id",
      body: { provider: "8x8", credentials: { api_key: EIGHT_BY_EIGHT_API_KEYS.other } },
      field: "account_id",
    },
    {
      what: "an 8x8 account id with a space",
      body: { provider: "8x8", account_id: "globex support", credentials: { api_key: EIGHT_BY_EIGHT_API_KEYS.other } },
      field: "account_id",
    },
    {
      what: "a 201-character name",
      body: { provider: "inkit", name: "n".repeat(201), credentials: { api_token: INKIT_API_TOKENS.other } },
      field: "name",
    },
    {
      what: "a 5000-character token",
      body: { provider: "inkit", credentials: { api_token: long } },
      field: "credentials.api_token",
      secret: long,
    },
    {
      what: "an empty token",
      body: { provider: "inkit", credentials: { api_token: "" } },
      field: "credentials.api_token",
    },
    {
      what: "a token with a control character",
      body: { provider: "inkit", credentials: { api_token: `${INKIT_API_TOKENS.other}\u0007bell` } },
      field: "credentials.api_token",
      secret: "\u0007bell",
    },
    {
      what: "a token with a space",
      body: { provider: "inkit", credentials: { api_token: `${INKIT_API_TOKENS.other} spaced-secret` } },
      field: "credentials.api_token",
      secret: "spaced-secret",
    },
    {
      what: "a token with a newline (header injection)",
      body: { provider: "inkit", credentials: { api_token: "tok\r\nX-Evil: injected-secret" } },
      field: "credentials.api_token",
      secret: "injected-secret",
    },
    {
      what: "Inkit credentials in 8x8's form",
      body: { provider: "inkit", credentials: { api_key: "key-in-wrong-form" } },
      field: "credentials.api_key",
      secret: "key-in-wrong-form",
    },
    {
      what: "8x8 credentials in Inkit's form",
      body: { provider: "8x8", account_id: OTHER_ACCOUNT, credentials: { api_token: "token-in-wrong-form" } },
      field: "credentials.api_token",
      secret: "token-in-wrong-form",
    },
    {
      what: "an unknown field",
      body: { provider: "inkit", credentials: { api_token: INKIT_API_TOKENS.other }, status: "active" },
      field: "status",
    },
  ];

  it.each(cases)("POST /v1/connections with $what", async ({ body, field, secret }) => {
    await clearCounters();
    const res = await send("POST", "/v1/connections", body);
    const problem = await expectProblem(res, 400, "validation-error");
    namesField(problem, "body", field);
    if (secret) expect(JSON.stringify(problem)).not.toContain(secret);
    expect(await rows("SELECT id FROM connections")).toEqual([]);
    expect(await upstreamCalls()).toBe(0);
  });

  it("POST /v1/connections with a body that is not JSON", async () => {
    const res = await send("POST", "/v1/connections", undefined, {
      body: '{"provider": "inkit", "credentials": ',
      headers: { "Content-Type": "application/json" },
    });
    await expectProblem(res, 400);
    expect(await rows("SELECT id FROM connections")).toEqual([]);
  });

  it("PATCH with credentials in the other provider's form, a bad token or an unknown field changes nothing", async () => {
    const conn = await connectInkit("patch-bad");
    const ebeConn = await connect8x8("patch-bad");
    const before = await storedConnections();
    await clearCounters();
    const patches: { id: string; json: unknown; field: string; secret?: string }[] = [
      { id: conn.id, json: { credentials: { api_key: "an-8x8-key-secret" } }, field: "credentials", secret: "secret" },
      {
        id: ebeConn.id,
        json: { credentials: { api_token: "an-inkit-secret" } },
        field: "credentials",
        secret: "secret",
      },
      {
        id: conn.id,
        json: { credentials: { api_token: "with space-secret" } },
        field: "credentials.api_token",
        secret: "space-secret",
      },
      { id: conn.id, json: { credentials: { api_token: "x".repeat(5000) } }, field: "credentials.api_token" },
      { id: conn.id, json: { name: "n".repeat(201) }, field: "name" },
      { id: conn.id, json: { status: "active" }, field: "status" },
      { id: conn.id, json: { provider: "8x8" }, field: "provider" },
      { id: ebeConn.id, json: { account_id: DEMO_ACCOUNT }, field: "account_id" },
    ];
    for (const { id, json, field, secret } of patches) {
      const problem = await expectProblem(await send("PATCH", `/v1/connections/${id}`, json), 400, "validation-error");
      namesField(problem, "body", field);
      if (secret) expect(JSON.stringify(problem)).not.toContain(secret);
    }
    expect(await storedConnections()).toEqual(before);
    expect(await upstreamCalls()).toBe(0);
  });

  it("an id that is no connection id: 404 (or 400) naming it, never a 500", async () => {
    for (const id of ["conn_nope", "we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V", "conn_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"]) {
      const res = await send("GET", `/v1/connections/${id}`);
      const problem = await expectProblem(res);
      expect([400, 404]).toContain(res.status);
      expect(problem.detail).toContain(id);
    }
    const bad = await send("GET", "/v1/inkit/runs?connection=conn_nope");
    namesField(await expectProblem(bad, 400, "validation-error"), "query", "connection");
  });
});

describe("another API key's connection is a 404 wherever it is named, and nothing is stored", () => {
  it("GET, PATCH, DELETE, POST …/test, ?connection=, and sources of feeds, endpoints and subscriptions", async () => {
    const theirs = await connectInkit("theirs", { auth: TEST_API_KEY_2 });
    const their8x8 = await connect8x8("theirs", { auth: TEST_API_KEY_2 });
    const before = await storedConnections();
    const mine = await connectInkit("mine");
    await clearCounters();

    const expectNotFound = async (res: Response, id: string, field?: [string, string]) => {
      const problem = await expectProblem(res, 404, "not-found");
      expect(problem.detail).toContain(id);
      if (field) namesField(problem, field[0], field[1]);
    };
    const id = theirs.id;
    await expectNotFound(await send("GET", `/v1/connections/${id}`), id);
    await expectNotFound(await send("PATCH", `/v1/connections/${id}`, { name: "mine now" }), id);
    await expectNotFound(
      await send("PATCH", `/v1/connections/${id}`, { credentials: { api_token: inkitToken("x") } }),
      id,
    );
    await expectNotFound(await send("DELETE", `/v1/connections/${id}`), id);
    await expectNotFound(
      await send("DELETE", `/v1/connections/${id}`, undefined, { headers: { "If-Match": "*" } }),
      id,
    );
    await expectNotFound(await send("POST", `/v1/connections/${id}/test`), id);
    for (const listing of ["runs", "workflow-batches", "batches"])
      await expectNotFound(await send("GET", `/v1/inkit/${listing}?connection=${id}`), id, ["query", "connection"]);
    await expectNotFound(
      await send("GET", `/v1/8x8/accounts/${OTHER_ACCOUNT}/definitions/${OTHER_DEF}/runs?connection=${their8x8.id}`),
      their8x8.id,
      ["query", "connection"],
    );
    await expectNotFound(await send("GET", `/v1/runs?source=inkit@${id}`), id, ["query", "source"]);
    await expectNotFound(await send("GET", `/v1/runs?source=inkit&source=inkit@${id}`), id, ["query", "source"]);
    await expectNotFound(await send("POST", "/v1/feeds", { sources: ["inkit", `inkit@${id}`] }), id, [
      "body",
      "sources",
    ]);
    await expectNotFound(
      await send("POST", "/v1/webhook-endpoints", { url: consumer.url("theirs"), sources: [`inkit:runs@${id}`] }),
      id,
      ["body", "sources"],
    );
    await expectNotFound(
      await send("POST", "/v1/event-subscriptions", {
        sources: [`8x8:${OTHER_ACCOUNT}/${OTHER_DEF}@${their8x8.id}`],
      }),
      their8x8.id,
      ["body", "sources"],
    );
    // An update naming it is refused as well: an endpoint of mine cannot come to watch their account.
    const sub = await sendJson<{ id: string }>("POST", "/v1/event-subscriptions", {
      sources: [`inkit:runs@${mine.id}`],
    });
    expect(sub.res.status, JSON.stringify(sub.body)).toBe(201);
    await expectNotFound(
      await send("PATCH", `/v1/event-subscriptions/${sub.body.id}`, { sources: [`inkit:batches@${id}`] }),
      id,
      ["body", "sources"],
    );

    expect(await rows("SELECT id FROM feeds")).toEqual([]);
    expect(await rows("SELECT id FROM webhook_endpoints")).toEqual([]);
    expect(await rows("SELECT sources FROM event_subscriptions")).toEqual([
      { sources: JSON.stringify([`inkit:runs@${mine.id}`]) },
    ]);
    // Their connections are as they were, and none of this reached an upstream.
    expect((await storedConnections()).filter((r) => r.id !== mine.id)).toEqual(before);
    expect(await upstreamCalls()).toBe(0);

    // And they still see theirs, working.
    const got = await sendJson("GET", `/v1/connections/${id}`, undefined, { auth: TEST_API_KEY_2 });
    expect(got.body.status).toBe("active");
  });

  it("a cursor of their walk through their connection is refused to me", async () => {
    const theirs = await connectInkit("their-walk", { auth: TEST_API_KEY_2 });
    const first = await sendJson<Page>("GET", `/v1/inkit/runs?limit=2&connection=${theirs.id}`, undefined, {
      auth: TEST_API_KEY_2,
    });
    expect(first.res.status, JSON.stringify(first.body)).toBe(200);
    const cursor = first.body.page.next_cursor as string;
    const res = await send("GET", `/v1/inkit/runs?cursor=${encodeURIComponent(cursor)}`);
    expect([400, 404]).toContain(res.status);
    await expectProblem(res);
  });
});

describe("a cursor keeps its walk's connection", () => {
  it("a later page naming another connection, or one where the walk had none, is a 400 naming `connection`", async () => {
    const a = await connectInkit("cursor-a");
    const b = await connectInkit("cursor-b");
    const through = await sendJson<Page>("GET", `/v1/inkit/runs?limit=2&connection=${a.id}`);
    const plain = await sendJson<Page>("GET", "/v1/inkit/runs?limit=2");
    await clearCounters();
    for (const [cursor, connection] of [
      [through.body.page.next_cursor, b.id],
      [plain.body.page.next_cursor, a.id],
    ] as const) {
      const res = await send(
        "GET",
        `/v1/inkit/runs?cursor=${encodeURIComponent(cursor as string)}&connection=${connection}`,
      );
      const problem = await expectProblem(res, 400, "invalid-cursor");
      // Named as every filter a cursor's walk disagrees with is.
      namesField(problem, "cursor", "connection");
    }
    // The same connection sent again is the same walk.
    const same = await send(
      "GET",
      `/v1/inkit/runs?cursor=${encodeURIComponent(through.body.page.next_cursor as string)}&connection=${a.id}`,
    );
    expect(same.status).toBe(200);
  });
});

describe("a deleted connection ends what names it, with a 404 that says why", () => {
  it("a live cursor of a walk through it: the next page is a 404 naming the connection and its deletion", async () => {
    const conn = await connectInkit("cursor");
    const first = await sendJson<Page>("GET", `/v1/inkit/runs?limit=2&connection=${conn.id}`);
    expect(first.res.status, JSON.stringify(first.body)).toBe(200);
    const cursor = first.body.page.next_cursor as string;
    expect(cursor).toBeTruthy();

    expect((await send("DELETE", `/v1/connections/${conn.id}`)).status).toBe(204);
    await clearCounters();
    for (const path of [
      `/v1/inkit/runs?cursor=${encodeURIComponent(cursor)}`,
      `/v1/inkit/runs?cursor=${encodeURIComponent(cursor)}&connection=${conn.id}`,
    ]) {
      const problem = await expectProblem(await send("GET", path), 404, "not-found");
      expect(problem.detail).toContain(conn.id);
      expect(problem.detail).toMatch(/deleted/);
    }
    const fresh = await expectProblem(await send("GET", `/v1/inkit/runs?connection=${conn.id}`), 404, "not-found");
    expect(fresh.detail).toMatch(/deleted/);
    namesField(fresh, "query", "connection");
    expect(await upstreamCalls()).toBe(0);

    // The connection itself: gone from reads and writes, each 404 saying when.
    for (const [method, path] of [
      ["GET", `/v1/connections/${conn.id}`],
      ["PATCH", `/v1/connections/${conn.id}`],
      ["DELETE", `/v1/connections/${conn.id}`],
      ["POST", `/v1/connections/${conn.id}/test`],
    ] as const) {
      const problem = await expectProblem(
        await send(method, path, method === "PATCH" ? { name: "back" } : undefined),
        404,
        "not-found",
      );
      expect(problem.detail, `${method} ${path}`).toContain(conn.id);
      expect(problem.detail, `${method} ${path}`).toMatch(/deleted/);
    }
    expect(await upstreamCalls()).toBe(0);
  });

  it("a saved feed naming it: GET /v1/runs?feed= and its cursor answer 404 saying the connection was deleted", async () => {
    const conn = await connectInkit("feed");
    const feed = await sendJson<{ id: string; sources: string[] }>("POST", "/v1/feeds", {
      sources: [`inkit@${conn.id}`, `8x8:${DEMO_ACCOUNT}/${DEMO_DEF}`],
    });
    expect(feed.res.status, JSON.stringify(feed.body)).toBe(201);
    expect(feed.body.sources).toEqual([`inkit@${conn.id}`, `8x8:${DEMO_ACCOUNT}/${DEMO_DEF}`]);
    const first = await sendJson<Page>("GET", `/v1/runs?feed=${feed.body.id}&limit=3`);
    expect(first.res.status, JSON.stringify(first.body)).toBe(200);
    const cursor = first.body.page.next_cursor as string;

    expect((await send("DELETE", `/v1/connections/${conn.id}`)).status).toBe(204);
    const again = await expectProblem(await send("GET", `/v1/runs?feed=${feed.body.id}`), 404, "not-found");
    expect(again.detail).toContain(conn.id);
    expect(again.detail).toMatch(/deleted/);
    namesField(again, "query", "feed");
    const next = await expectProblem(
      await send("GET", `/v1/runs?cursor=${encodeURIComponent(cursor)}`),
      404,
      "not-found",
    );
    expect(next.detail).toContain(conn.id);
    expect(next.detail).toMatch(/deleted/);
    // The feed itself still exists (it is immutable): it says what it names.
    expect((await send("GET", `/v1/feeds/${feed.body.id}`)).status).toBe(200);
  });

  it("an endpoint or subscription cannot be made to watch a deleted connection", async () => {
    const conn = await connectInkit("watch-deleted");
    expect((await send("DELETE", `/v1/connections/${conn.id}`)).status).toBe(204);
    for (const [path, json] of [
      ["/v1/event-subscriptions", { sources: [`inkit:runs@${conn.id}`] }],
      ["/v1/webhook-endpoints", { url: consumer.url("deleted"), sources: [`inkit:runs@${conn.id}`] }],
      ["/v1/feeds", { sources: [`inkit@${conn.id}`] }],
    ] as const) {
      const problem = await expectProblem(await send("POST", path, json), 404, "not-found");
      expect(problem.detail).toContain(conn.id);
      expect(problem.detail).toMatch(/deleted/);
      namesField(problem, "body", "sources");
    }
    expect(await rows("SELECT id FROM event_subscriptions UNION ALL SELECT id FROM webhook_endpoints")).toEqual([]);
    expect(await rows("SELECT id FROM feeds")).toEqual([]);
  });
});

describe("a source must fit its connection: a 400 naming the connection", () => {
  it("an 8x8 source of another account, or an Inkit source through an 8x8 connection, anywhere", async () => {
    const ebeConn = await connect8x8("fit");
    const inkitConn = await connectInkit("fit");
    const wrongAccount = `8x8:${DEMO_ACCOUNT}/${DEMO_DEF}@${ebeConn.id}`;
    const wrongProvider = `inkit:runs@${ebeConn.id}`;
    const wrongWay = `8x8:${OTHER_ACCOUNT}/${OTHER_DEF}@${inkitConn.id}`;
    await clearCounters();
    const attempts: [string, string, unknown, [string, string]][] = [
      ["GET", `/v1/runs?source=${encodeURIComponent(wrongAccount)}`, undefined, ["query", "source"]],
      [
        "GET",
        `/v1/8x8/accounts/${DEMO_ACCOUNT}/definitions/${DEMO_DEF}/runs?connection=${ebeConn.id}`,
        undefined,
        ["query", "connection"],
      ],
      ["GET", `/v1/inkit/runs?connection=${ebeConn.id}`, undefined, ["query", "connection"]],
      ["POST", "/v1/feeds", { sources: [wrongAccount] }, ["body", "sources"]],
      ["POST", "/v1/feeds", { sources: [`inkit@${ebeConn.id}`] }, ["body", "sources"]],
      ["POST", "/v1/webhook-endpoints", { url: consumer.url("fit"), sources: [wrongAccount] }, ["body", "sources"]],
      ["POST", "/v1/event-subscriptions", { sources: [wrongAccount] }, ["body", "sources"]],
      ["POST", "/v1/event-subscriptions", { sources: [wrongProvider] }, ["body", "sources"]],
      ["POST", "/v1/event-subscriptions", { sources: [wrongWay] }, ["body", "sources"]],
    ];
    for (const [method, path, json, field] of attempts) {
      const problem = await expectProblem(await send(method, path, json), 400, "validation-error");
      const id = `${path} ${JSON.stringify(json ?? null)}`.includes(inkitConn.id) ? inkitConn.id : ebeConn.id;
      expect(problem.detail, `${method} ${path}`).toContain(id);
      namesField(problem, field[0], field[1]);
    }
    expect(await rows("SELECT id FROM event_subscriptions UNION ALL SELECT id FROM webhook_endpoints")).toEqual([]);
    expect(await rows("SELECT id FROM feeds")).toEqual([]);
    expect(await upstreamCalls()).toBe(0);
  });

  it("a credential header and a connection for the same provider: a 400 naming the header", async () => {
    const conn = await connectInkit("both");
    const res = await send("GET", `/v1/inkit/runs?connection=${conn.id}`, undefined, {
      headers: { "X-Inkit-API-Token": INKIT_API_TOKENS.demo },
    });
    const problem = await expectProblem(res, 400, "validation-error");
    namesField(problem, "header", "x-inkit-api-token");
    expect(problem.detail).toContain(conn.id);
    expect(JSON.stringify(problem)).not.toContain(INKIT_API_TOKENS.demo);
  });
});

describe("the merged feed through an invalid connection", () => {
  interface FeedPage extends Page<{ id: string; provider: string }> {
    page: Page["page"] & { errors?: { source: string; status: number; type: string; detail: string }[] };
  }

  it("with partial=true the other sources are served and the connection's source is named in page.errors, before and after it is known invalid", async () => {
    const token = inkitToken("partial");
    const conn = await connectInkit("partial");
    const ebeSource = `8x8:${DEMO_ACCOUNT}/${DEMO_DEF}`;
    const path = `/v1/runs?limit=4&partial=true&source=inkit@${conn.id}&source=${encodeURIComponent(ebeSource)}`;
    await inkit.revoke(token);
    await clearCounters();
    for (const moment of ["rejected during the read", "already known invalid"]) {
      const res = await send("GET", path, undefined, { headers: { "Cache-Control": "no-cache" } });
      const text = await res.clone().text();
      expect(res.status, `${moment}: ${text}`).toBe(200);
      await expectDeclaredSuccess("GET", path, res.clone());
      const body = (await res.json()) as FeedPage;
      expect(body.data.length, moment).toBe(4);
      expect(
        body.data.every((r) => r.provider === "8x8"),
        moment,
      ).toBe(true);
      expect(body.page.errors, moment).toEqual([
        expect.objectContaining({ source: `inkit@${conn.id}`, status: 409, type: "connection-invalid" }),
      ]);
      expect(body.page.errors?.[0]?.detail).toContain(conn.id);
      // The next page keeps the source's place and says so again.
      const next = await sendJson<FeedPage>(
        "GET",
        `/v1/runs?partial=true&cursor=${encodeURIComponent(body.page.next_cursor as string)}`,
        undefined,
        { headers: { "Cache-Control": "no-cache" } },
      );
      expect(next.res.status, JSON.stringify(next.body)).toBe(200);
      expect(next.body.page.errors?.map((e) => e.type)).toEqual(["connection-invalid"]);
    }
    // Once known invalid, its source costs no Inkit call: only the first read (which found it rejected) made one.
    expect((await inkitSim.counters()).total).toBe(1);
    // Without partial=true, the page fails with the connection's 409.
    const whole = await send("GET", path.replace("&partial=true", ""), undefined, {
      headers: { "Cache-Control": "no-cache" },
    });
    expect((await expectProblem(whole, 409, "connection-invalid")).detail).toContain(conn.id);
  });
});

describe("checked when saved", () => {
  it("Inkit: exactly one upstream call, its first run", async () => {
    await clearCounters();
    await connectInkit("probe");
    expect(await inkitSim.requests()).toEqual(["GET /v1/invoke?page=1&page_size=1"]);
    expect(await upstreamCalls()).toBe(1);
  });

  it("8x8: exactly one upstream call, the instances of the nil definition in the connection's account", async () => {
    await clearCounters();
    const conn = await connect8x8("probe");
    expect(conn.account_id).toBe(OTHER_ACCOUNT);
    expect(await eightByEightSim.requests()).toEqual([
      `GET /api/v1/accounts/${OTHER_ACCOUNT}/definitions/${NIL_DEFINITION}/workflows?limit=1`,
    ]);
    expect(await upstreamCalls()).toBe(1);
  });

  it("8x8: a revoked key is a 422 naming 8x8 and the account, after one call, and nothing is stored", async () => {
    await ebe.revoke(ebeKey("revoked"));
    await clearCounters();
    const res = await send("POST", "/v1/connections", {
      provider: "8x8",
      account_id: OTHER_ACCOUNT,
      credentials: { api_key: ebeKey("revoked") },
    });
    const problem = await expectProblem(res, 422, "credential-rejected");
    expect(problem.detail).toMatch(/8x8 rejected the credential with HTTP 401/);
    expect(problem.detail).toContain("account_id");
    namesField(problem, "body", "credentials");
    expect(problem.upstream).toMatchObject({ provider: "8x8", status: 401 });
    expect(JSON.stringify(problem)).not.toContain(ebeKey("revoked"));
    expect(await upstreamCalls()).toBe(1);
    expect(await rows("SELECT id FROM connections")).toEqual([]);
  });

  it.each([
    { what: "Inkit answering 503", sim: inkitSim, provider: "inkit", name: "Inkit", fault: { status: 503 } },
    { what: "Inkit answering 500", sim: inkitSim, provider: "inkit", name: "Inkit", fault: { status: 500 } },
    { what: "8x8 answering 503", sim: eightByEightSim, provider: "8x8", name: "8x8", fault: { status: 503 } },
    { what: "Inkit's gateway answering 429", sim: inkitSim, provider: "inkit", name: "Inkit", fault: { status: 429 } },
    { what: "Inkit answering garbage", sim: inkitSim, provider: "inkit", name: "Inkit", fault: { malformed: true } },
  ])(
    "an upstream that cannot be asked ($what): a 5xx problem naming it, nothing stored",
    async ({ sim, provider, name, fault }) => {
      await sim.fault(fault);
      await clearCounters();
      const body =
        provider === "inkit"
          ? inkitBody("down")
          : { provider: "8x8", account_id: OTHER_ACCOUNT, credentials: { api_key: ebeKey("down") } };
      const res = await send("POST", "/v1/connections", body);
      const problem = await expectProblem(res);
      expect([502, 503, 504]).toContain(res.status);
      expect(problem.detail).toContain(name);
      expect(problem.upstream).toMatchObject({ provider });
      expect(await rows("SELECT id FROM connections")).toEqual([]);
      // Retried within the request's budget at most, never a loop.
      const calls = await upstreamCalls();
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(calls).toBeLessThanOrEqual(3);
    },
  );

  it("an upstream that hangs: a 504 naming it after the timeout, nothing stored", async () => {
    const slow = webhookEnv({ UPSTREAM_TIMEOUT_MS: "300", UPSTREAM_BUDGET_MS: "1000" });
    await inkitSim.fault({ hang: true });
    const res = await callApp(slow, "/v1/connections", { method: "POST", json: inkitBody("hang") });
    const problem = await expectProblem(res, 504, "upstream-timeout");
    expect(problem.detail).toContain("Inkit");
    expect(await rows("SELECT id FROM connections")).toEqual([]);
  });

  it("a rotation or a test while the upstream is down: a 5xx naming it, the stored credential and status untouched", async () => {
    const conn = await connectInkit("rotate-down");
    const before = await storedConnections();
    await inkitSim.fault({ status: 503 });
    const patched = await send("PATCH", `/v1/connections/${conn.id}`, {
      credentials: { api_token: inkitToken("rotate-down-2") },
    });
    expect([502, 503, 504]).toContain(patched.status);
    expect((await expectProblem(patched)).detail).toContain("Inkit");
    const tested = await send("POST", `/v1/connections/${conn.id}/test`);
    expect([502, 503, 504]).toContain(tested.status);
    expect((await expectProblem(tested)).detail).toContain("Inkit");
    expect(await storedConnections()).toEqual(before);
    expect(await rows("SELECT * FROM connection_transitions")).toEqual([]);
  });
});

describe("rotation in place", () => {
  it("a new credential keeps the id and the live cursor: the walk continues where it was, with the new credential", async () => {
    const oldToken = inkitToken("rotate-a");
    const conn = await connectInkit("rotate-a");
    const path = `/v1/inkit/runs?limit=3&connection=${conn.id}`;
    const first = await sendJson<Page>("GET", path);
    expect(first.res.status, JSON.stringify(first.body)).toBe(200);

    const patched = await sendJson("PATCH", `/v1/connections/${conn.id}`, {
      credentials: { api_token: inkitToken("rotate-b") },
    });
    expect(patched.res.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.id).toBe(conn.id);
    expect(patched.body.status).toBe("active");
    expect(patched.body.updated_at > conn.updated_at).toBe(true);
    await expectDeclaredSuccess(
      "PATCH",
      `/v1/connections/${conn.id}`,
      new Response(JSON.stringify(patched.body), {
        status: 200,
        headers: { "Content-Type": "application/json" },
      }),
    );
    // The old credential no longer works upstream: a page read with it would be a 409.
    await inkit.revoke(oldToken);

    const ids = first.body.data.map((r) => r.id);
    let cursor = first.body.page.next_cursor;
    for (let pages = 0; cursor && pages < 2; pages++) {
      const next = await sendJson<Page>("GET", `/v1/inkit/runs?cursor=${encodeURIComponent(cursor)}`, undefined, {
        headers: { "Cache-Control": "no-cache" },
      });
      expect(next.res.status, JSON.stringify(next.body)).toBe(200);
      ids.push(...next.body.data.map((r) => r.id));
      cursor = next.body.page.next_cursor;
    }
    // The same listing as one walk of the account from the start.
    const whole = await sendJson<Page>("GET", `/v1/inkit/runs?limit=9&connection=${conn.id}`, undefined, {
      headers: { "Cache-Control": "no-cache" },
    });
    expect(whole.res.status).toBe(200);
    expect(ids).toEqual(whole.body.data.map((r) => r.id));
    expect(new Set(ids).size).toBe(ids.length);
    const after = await sendJson("GET", `/v1/connections/${conn.id}`);
    expect(after.body.status).toBe("active");
  });

  it("concurrent rotations of an invalid connection all succeed, the last one wins, and it is recovered once", async () => {
    const conn = await connectInkit("race");
    await inkit.revoke(inkitToken("race"));
    await expectProblem(
      await send("GET", `/v1/inkit/runs?connection=${conn.id}`, undefined, {
        headers: { "Cache-Control": "no-cache" },
      }),
      409,
      "connection-invalid",
    );
    const answers = await Promise.all(
      [1, 2, 3].map((i) =>
        sendJson("PATCH", `/v1/connections/${conn.id}`, { credentials: { api_token: inkitToken(`race-${i}`) } }),
      ),
    );
    for (const { res, body } of answers) {
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.status).toBe("active");
    }
    expect((await sendJson("GET", `/v1/connections/${conn.id}`)).body.status).toBe("active");
    const transitions = await rows<{ to_status: string }>("SELECT to_status FROM connection_transitions ORDER BY at");
    expect(transitions.map((t) => t.to_status)).toEqual(["invalid", "active"]);
    const listed = await send("GET", `/v1/inkit/runs?limit=2&connection=${conn.id}`, undefined, {
      headers: { "Cache-Control": "no-cache" },
    });
    expect(listed.status).toBe(200);
  });

  it("a rotation racing a delete: the delete wins, the rotation is a 404 saying so, never a 500", async () => {
    const conn = await connectInkit("race-delete");
    // The rotation's check is held upstream until the delete has committed.
    await inkitSim.fault({ latency_ms: 400, times: 1 });
    await clearCounters();
    const rotation = sendJson("PATCH", `/v1/connections/${conn.id}`, {
      credentials: { api_token: inkitToken("rd-2") },
    });
    await until(async () => (await inkitSim.requests()).length === 1);
    expect((await send("DELETE", `/v1/connections/${conn.id}`)).status).toBe(204);
    const { res, body } = await rotation;
    expect(res.status, JSON.stringify(body)).toBe(404);
    expect(JSON.stringify(body)).toMatch(/deleted/);
    expect(await rows("SELECT status, sealed FROM connections")).toEqual([{ status: "deleted", sealed: null }]);
  });

  it("a rotation racing a refused read: the new credential is stored and the connection ends active", async () => {
    const oldToken = inkitToken("race-read");
    const conn = await connectInkit("race-read");
    await inkit.revoke(oldToken);
    // The rotation reads the connection while it is still active, and its check is held upstream meanwhile.
    await inkitSim.fault({ latency_ms: 400, times: 1 });
    await clearCounters();
    const rotation = sendJson("PATCH", `/v1/connections/${conn.id}`, {
      credentials: { api_token: inkitToken("race-read-2") },
    });
    await until(async () => (await inkitSim.requests()).length === 1);
    // A read with the old token is refused and marks it invalid, before the rotation writes.
    await expectProblem(
      await send("GET", `/v1/inkit/runs?connection=${conn.id}`, undefined, {
        headers: { "Cache-Control": "no-cache" },
      }),
      409,
      "connection-invalid",
    );
    const { res, body } = await rotation;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe("active");
    const got = await sendJson("GET", `/v1/connections/${conn.id}`);
    expect(got.body).toMatchObject({ status: "active", last_error: null });
    expect(got.res.headers.get("ETag")).toBe(res.headers.get("ETag"));
    const listed = await send("GET", `/v1/inkit/runs?limit=2&connection=${conn.id}`, undefined, {
      headers: { "Cache-Control": "no-cache" },
    });
    expect(listed.status).toBe(200);
  });

  it("a rejected new credential is a 422, and the old one stays in place and keeps working", async () => {
    const conn = await connectInkit("keep");
    const before = await storedConnections();
    await inkit.revoke(inkitToken("keep-bad"));
    const res = await send("PATCH", `/v1/connections/${conn.id}`, {
      name: "renamed too",
      credentials: { api_token: inkitToken("keep-bad") },
    });
    const problem = await expectProblem(res, 422, "credential-rejected");
    expect(problem.detail).toMatch(/Inkit rejected the credential with HTTP 401/);
    expect(problem.detail).toMatch(/nothing was stored/);
    expect(JSON.stringify(problem)).not.toContain("keep-bad");
    expect(await storedConnections()).toEqual(before);
    const got = await sendJson("GET", `/v1/connections/${conn.id}`);
    expect(got.body).toMatchObject({ status: "active", name: null, last_error: null });
    const listed = await send("GET", `/v1/inkit/runs?limit=2&connection=${conn.id}`, undefined, {
      headers: { "Cache-Control": "no-cache" },
    });
    expect(listed.status).toBe(200);
  });

  it("If-Match on PATCH and DELETE: a stale ETag is a 412 naming the current one, and changes nothing", async () => {
    const conn = await connectInkit("etag");
    const got = await sendJson("GET", `/v1/connections/${conn.id}`);
    const etag = got.res.headers.get("ETag") as string;
    expect(etag).toMatch(/^"[^"]+"$/);

    const renamed = await sendJson(
      "PATCH",
      `/v1/connections/${conn.id}`,
      { name: "first" },
      {
        headers: { "If-Match": etag },
      },
    );
    expect(renamed.res.status, JSON.stringify(renamed.body)).toBe(200);
    const fresh = renamed.res.headers.get("ETag") as string;
    expect(fresh).not.toBe(etag);
    // The PATCH answer's ETag is the one a GET now carries.
    expect((await send("GET", `/v1/connections/${conn.id}`)).headers.get("ETag")).toBe(fresh);

    const before = await storedConnections();
    await clearCounters();
    const stale = await send(
      "PATCH",
      `/v1/connections/${conn.id}`,
      { name: "second" },
      { headers: { "If-Match": etag } },
    );
    const problem = await expectProblem(stale, 412, "precondition-failed");
    expect(stale.headers.get("ETag")).toBe(fresh);
    expect(problem.detail).toContain(conn.id);
    const staleRotation = await send(
      "PATCH",
      `/v1/connections/${conn.id}`,
      { credentials: { api_token: inkitToken("etag-2") } },
      { headers: { "If-Match": etag } },
    );
    await expectProblem(staleRotation, 412, "precondition-failed");
    const staleDelete = await send("DELETE", `/v1/connections/${conn.id}`, undefined, {
      headers: { "If-Match": etag },
    });
    await expectProblem(staleDelete, 412, "precondition-failed");
    expect(await storedConnections()).toEqual(before);
    // A stale tag costs no upstream call: the precondition is checked before the credential.
    expect(await upstreamCalls()).toBe(0);

    const rotated = await sendJson(
      "PATCH",
      `/v1/connections/${conn.id}`,
      { credentials: { api_token: inkitToken("etag-2") } },
      { headers: { "If-Match": fresh } },
    );
    expect(rotated.res.status, JSON.stringify(rotated.body)).toBe(200);
    const last = rotated.res.headers.get("ETag") as string;
    expect(last).not.toBe(fresh);
    const deleted = await send("DELETE", `/v1/connections/${conn.id}`, undefined, { headers: { "If-Match": last } });
    expect(deleted.status).toBe(204);
    expect(await rows("SELECT status, sealed, key_id FROM connections")).toEqual([
      { status: "deleted", sealed: null, key_id: null },
    ]);
  });

  it("If-Match on an invalid connection's rotation: the recovery applies only to the state it was read in", async () => {
    const token = inkitToken("etag-invalid");
    const conn = await connectInkit("etag-invalid");
    await inkit.revoke(token);
    await expectProblem(
      await send("GET", `/v1/inkit/runs?connection=${conn.id}`, undefined, {
        headers: { "Cache-Control": "no-cache" },
      }),
      409,
      "connection-invalid",
    );
    const got = await sendJson("GET", `/v1/connections/${conn.id}`);
    expect(got.body.status).toBe("invalid");
    const etag = got.res.headers.get("ETag") as string;
    const stale = await send(
      "PATCH",
      `/v1/connections/${conn.id}`,
      { credentials: { api_token: inkitToken("etag-invalid-2") } },
      { headers: { "If-Match": `"stale"` } },
    );
    await expectProblem(stale, 412, "precondition-failed");
    const recovered = await sendJson(
      "PATCH",
      `/v1/connections/${conn.id}`,
      { credentials: { api_token: inkitToken("etag-invalid-2") } },
      { headers: { "If-Match": etag } },
    );
    expect(recovered.res.status, JSON.stringify(recovered.body)).toBe(200);
    expect(recovered.body).toMatchObject({ status: "active", last_error: null });
    expect((await send("GET", `/v1/connections/${conn.id}`)).headers.get("ETag")).toBe(
      recovered.res.headers.get("ETag"),
    );
  });

  it("Idempotency-Key on POST: a retried create replays the same answer, stores one connection, probes once", async () => {
    await clearCounters();
    const headers = { "Idempotency-Key": "create-conn-1" };
    const first = await send("POST", "/v1/connections", { ...inkitBody("idem"), name: "Idem" }, { headers });
    const firstText = await first.text();
    expect(first.status, firstText).toBe(201);
    const again = await send("POST", "/v1/connections", { name: "Idem", ...inkitBody("idem") }, { headers });
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.text()).toBe(firstText);
    expect(again.headers.get("Location")).toBe(first.headers.get("Location"));
    expect(await rows("SELECT id FROM connections")).toHaveLength(1);
    expect(await upstreamCalls()).toBe(1);

    // The same key with another body (another credential) is refused, and stores nothing.
    const other = await send("POST", "/v1/connections", { ...inkitBody("idem-other"), name: "Idem" }, { headers });
    await expectProblem(other, 422);
    expect(await rows("SELECT id FROM connections")).toHaveLength(1);
    // Another API key's same Idempotency-Key is a request of its own.
    const theirs = await send(
      "POST",
      "/v1/connections",
      { ...inkitBody("idem"), name: "Idem" },
      {
        headers,
        auth: TEST_API_KEY_2,
      },
    );
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await rows("SELECT id FROM connections")).toHaveLength(2);
  });

  it("Idempotency-Key on a create the upstream refused: the key is freed, a retry once it works saves it", async () => {
    const headers = { "Idempotency-Key": "create-conn-refused" };
    await inkitSim.fault({ status: 503 });
    const refused = await send("POST", "/v1/connections", inkitBody("idem-retry"), { headers });
    expect(refused.status).toBeGreaterThanOrEqual(500);
    await inkitSim.clearFaults();
    resetCircuitBreakers();
    const saved = await send("POST", "/v1/connections", inkitBody("idem-retry"), { headers });
    expect(saved.status, await saved.clone().text()).toBe(201);
    expect(saved.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await rows("SELECT id FROM connections")).toHaveLength(1);
  });

  it("Idempotency-Key on POST …/test: a replay answers the first test's result without another call", async () => {
    const conn = await connectInkit("idem-test");
    await clearCounters();
    const headers = { "Idempotency-Key": "test-conn-1" };
    const first = await send("POST", `/v1/connections/${conn.id}/test`, undefined, { headers });
    const text = await first.text();
    expect(first.status, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ id: conn.id, ok: true, status: "active", detail: null });
    const again = await send("POST", `/v1/connections/${conn.id}/test`, undefined, { headers });
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.text()).toBe(text);
    expect(await upstreamCalls()).toBe(1);
  });
});

describe("the list", () => {
  it("pages with the cursor, newest first, leaves deleted ones out, and shows another key none of yours", async () => {
    const made: Connection[] = [];
    for (let i = 0; i < 5; i++) made.push(await connectInkit(`list-${i}`));
    made.push(await connect8x8("list"));
    const theirs = await connectInkit("list-theirs", { auth: TEST_API_KEY_2 });
    const gone = made[2] as Connection;
    expect((await send("DELETE", `/v1/connections/${gone.id}`)).status).toBe(204);

    const seen: Connection[] = [];
    let url: string | null = "/v1/connections?limit=2";
    let pages = 0;
    while (url) {
      const res = await send("GET", url);
      await expectDeclaredSuccess("GET", url, res.clone());
      const body = (await res.json()) as Page<Connection>;
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data);
      pages++;
      url = body.page.next_cursor ? `/v1/connections?cursor=${encodeURIComponent(body.page.next_cursor)}` : null;
      expect(pages).toBeLessThan(10);
    }
    const expected = made.filter((c) => c.id !== gone.id).reverse();
    expect(seen.map((c) => c.id)).toEqual(expected.map((c) => c.id));
    for (const c of seen) ConnectionSchema.parse(c);
    expect(JSON.stringify(seen)).not.toMatch(/sealed|api_token|api_key|sim_inkit|sim_8x8/);

    const other = await sendJson<Page<Connection>>("GET", "/v1/connections?limit=100", undefined, {
      auth: TEST_API_KEY_2,
    });
    expect(other.body.data.map((c) => c.id)).toEqual([theirs.id]);
    // A cursor of my walk is no use to another key.
    const mine = await sendJson<Page<Connection>>("GET", "/v1/connections?limit=1");
    const foreign = await send(
      "GET",
      `/v1/connections?cursor=${encodeURIComponent(mine.body.page.next_cursor as string)}`,
      undefined,
      { auth: TEST_API_KEY_2 },
    );
    await expectProblem(foreign, 400);
    // Bad paging input is the usual 400.
    namesField(await expectProblem(await send("GET", "/v1/connections?limit=0"), 400), "query", "limit");
    namesField(await expectProblem(await send("GET", "/v1/connections?status=active"), 400), "query", "status");
  });
});
