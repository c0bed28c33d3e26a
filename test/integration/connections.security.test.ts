// A connection's credential is write-only: after it is sent it appears in no D1 row, log line, answer (bodies and
// headers, problems included), webhook delivery, cache entry or analytics point. At rest it is sealed under a keyring:
// an older key still opens what it sealed, the cron seals it again under the first key, a sealed value copied to
// another row (or tenant) does not open, and a deployment whose keyring cannot seal or open answers 503
// `deployment-incomplete` naming the key or the step, never a 500.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  EIGHT_BY_EIGHT_ACCOUNT_IDS,
  EIGHT_BY_EIGHT_API_KEYS,
  EIGHT_BY_EIGHT_DEFINITION_IDS,
  INKIT_API_TOKENS,
} from "../../simulator/credentials";
import { connectionKeys, openCredential } from "../../src/connections/keyring";
import { resealOlder } from "../../src/connections/reseal";
import { forgetConnections } from "../../src/connections/resolve";
import { resetCircuitBreakers } from "../../src/upstream/circuit-breaker";
import { TEST_API_KEY_2, TEST_CONNECTION_KEYS } from "../setup/bindings";
import { recordingDataset } from "../support/analytics";
import { captureLogs } from "../support/hardening";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, mutationsOf } from "../support/simulator";
import {
  callApp,
  callAppJson,
  consumer,
  createHookEndpoint,
  drain,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

interface Connection {
  id: string;
  status: string;
}

interface SealedRow {
  id: string;
  tenant: string;
  sealed: string | null;
  key_id: string | null;
}

const inkit = mutationsOf(inkitSim);
mutationsOf(eightByEightSim);

const [K2_ONLY, K1_ONLY] = TEST_CONNECTION_KEYS.split(",") as [string, string];
/** The same key ids, but `k2` with another secret: a deployment that replaced a key instead of adding one. */
const WRONG_K2 = `k2:not-the-secret-that-sealed-these-0123456789abcdef,${K1_ONLY}`;

const OTHER_ACCOUNT = EIGHT_BY_EIGHT_ACCOUNT_IDS.other;
const OTHER_DEF = EIGHT_BY_EIGHT_DEFINITION_IDS.other.supportTriage;
const noCache = { "Cache-Control": "no-cache" };

const inkitToken = (tag: string) => `${INKIT_API_TOKENS.other}~${tag}`;
const inkitBody = (token: string) => ({ provider: "inkit", credentials: { api_token: token } });

async function connect(w: WebhookEnv, token: string, auth?: string): Promise<Connection> {
  const { res, body } = await callAppJson<Connection>(w, "/v1/connections", {
    method: "POST",
    json: inkitBody(token),
    ...(auth ? { auth } : {}),
  });
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

const sealedRow = async (id: string) =>
  (await rows<SealedRow>("SELECT id, tenant, sealed, key_id FROM connections WHERE id = ?", id))[0] as SealedRow;

const listThrough = (w: WebhookEnv, id: string, auth?: string) =>
  callApp(w, `/v1/inkit/runs?limit=3&connection=${id}`, { headers: noCache, ...(auth ? { auth } : {}) });

beforeEach(async () => {
  await resetWebhookStore();
  resetCircuitBreakers();
  forgetConnections();
});

afterEach(() => {
  // What this isolate resolved under one keyring must not answer for the next test's.
  forgetConnections();
});

describe("the credential never appears", () => {
  it("in any D1 row, log line, answer, delivery, cache entry or analytics point, through the whole life", async () => {
    const MARK = "secret-XYZ";
    const first = inkitToken(`${MARK}-first-7Qz`);
    const second = inkitToken(`${MARK}-second-9Wk`);
    const refused = inkitToken(`${MARK}-refused-3Pv`);
    const ebeKey = `${EIGHT_BY_EIGHT_API_KEYS.other}~${MARK}-8x8-5Rt`;
    const dataset = recordingDataset();
    const w = webhookEnv({ LOG_LEVEL: "debug", ANALYTICS: dataset.binding }, { cache: true });
    const answers: string[] = [];
    const go = async (path: string, init: Parameters<typeof callApp>[2] = {}) => {
      const res = await callApp(w, path, init);
      const text = await res.text();
      answers.push(`${path} ${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${text}`);
      return { res, text, body: (text ? JSON.parse(text) : null) as Record<string, unknown> & { id: string } };
    };
    const statuses: number[] = [];
    const expectStatus = (res: Response, status: number, text: string) => {
      statuses.push(res.status);
      expect(res.status, text).toBe(status);
    };

    const { lines } = await captureLogs(async () => {
      // Saved, replayed, refused, malformed.
      const created = await go("/v1/connections", {
        method: "POST",
        json: { ...inkitBody(first), name: "Globex" },
        headers: { "Idempotency-Key": "leak-create" },
      });
      expectStatus(created.res, 201, created.text);
      const conn = created.body.id;
      const replay = await go("/v1/connections", {
        method: "POST",
        json: { ...inkitBody(first), name: "Globex" },
        headers: { "Idempotency-Key": "leak-create" },
      });
      expectStatus(replay.res, 201, replay.text);
      const ebe = await go("/v1/connections", {
        method: "POST",
        json: { provider: "8x8", account_id: OTHER_ACCOUNT, credentials: { api_key: ebeKey } },
      });
      expectStatus(ebe.res, 201, ebe.text);
      await inkit.revoke(refused);
      const rejected = await go("/v1/connections", { method: "POST", json: inkitBody(refused) });
      expectStatus(rejected.res, 422, rejected.text);
      for (const bad of [`${first} trailing`, `${first}\u0000`, `${first}\n`, `${first}${"x".repeat(5000)}`]) {
        const malformed = await go("/v1/connections", { method: "POST", json: inkitBody(bad) });
        expectStatus(malformed.res, 400, malformed.text);
      }

      // Read, listed, watched.
      expectStatus((await go("/v1/connections")).res, 200, "");
      expectStatus((await go(`/v1/connections/${conn}`)).res, 200, "");
      const sources = [`inkit:runs@${conn}`, `8x8:${OTHER_ACCOUNT}/${OTHER_DEF}@${ebe.body.id}`];
      const { hook } = await createHookEndpoint(w, { sources });
      const sub = await go("/v1/event-subscriptions", { method: "POST", json: { sources } });
      expectStatus(sub.res, 201, sub.text);
      await runCron(w); // baselines
      await inkit.insert({ kind: "run", count: 2, tenant: "other" });
      await runCron(w);
      for (const path of [
        `/v1/inkit/runs?limit=3&connection=${conn}`,
        `/v1/inkit/runs?limit=3&connection=${conn}`, // from the cache
        `/v1/8x8/accounts/${OTHER_ACCOUNT}/definitions/${OTHER_DEF}/runs?limit=3&connection=${ebe.body.id}`,
        `/v1/runs?limit=4&source=inkit@${conn}&source=${encodeURIComponent(sources[1] as string)}`,
      ]) {
        const listed = await go(path);
        expectStatus(listed.res, 200, listed.text);
      }
      const tested = await go(`/v1/connections/${conn}/test`, { method: "POST" });
      expectStatus(tested.res, 200, tested.text);

      // Revoked: refused reads, a paused tick, a failed test.
      await inkit.revoke(first);
      const invalid = await go(`/v1/inkit/runs?limit=3&connection=${conn}`, { headers: noCache });
      expectStatus(invalid.res, 409, invalid.text);
      await runCron(w);
      const failed = await go(`/v1/connections/${conn}/test`, { method: "POST" });
      expectStatus(failed.res, 200, failed.text);
      expect(failed.body.ok).toBe(false);

      // Patched: a refused credential, a stale tag, a working credential.
      const patchRefused = await go(`/v1/connections/${conn}`, {
        method: "PATCH",
        json: { credentials: { api_token: refused } },
      });
      expectStatus(patchRefused.res, 422, patchRefused.text);
      const stale = await go(`/v1/connections/${conn}`, {
        method: "PATCH",
        json: { credentials: { api_token: second } },
        headers: { "If-Match": '"stale"' },
      });
      expectStatus(stale.res, 412, stale.text);
      const patched = await go(`/v1/connections/${conn}`, {
        method: "PATCH",
        json: { credentials: { api_token: second } },
      });
      expectStatus(patched.res, 200, patched.text);
      await runCron(w);

      // Events, then deleted.
      expectStatus((await go("/v1/event-stream?limit=100")).res, 200, "");
      expectStatus((await go("/v1/events?limit=100")).res, 200, "");
      await drain(w);
      expectStatus((await go(`/v1/connections/${conn}`, { method: "DELETE" })).res, 204, "");
      expectStatus((await go(`/v1/connections/${ebe.body.id}`, { method: "DELETE" })).res, 204, "");
      const gone = await go(`/v1/inkit/runs?connection=${conn}`);
      expectStatus(gone.res, 404, gone.text);
      await runCron(w);
      await drain(w);

      const received = await consumer.received(hook);
      expect(received.length).toBeGreaterThan(0);
      for (const r of received) {
        expect(r.body).not.toContain(MARK);
        expect(JSON.stringify(r.headers)).not.toContain(MARK);
      }
    });

    // The flow did what it says (so the searches below searched something).
    expect(statuses.length).toBeGreaterThan(20);
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.some((l) => l.includes('"msg":"request"'))).toBe(true);
    for (const line of lines) expect(line).not.toContain(MARK);
    for (const answer of answers) expect(answer).not.toContain(MARK);

    const tables = await rows<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    );
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["connections", "events", "idempotency_keys"]));
    let cells = 0;
    for (const { name } of tables) {
      for (const row of await rows(`SELECT * FROM "${name}"`)) {
        for (const [column, value] of Object.entries(row)) {
          cells++;
          expect(String(value), `${name}.${column}`).not.toContain(MARK);
        }
      }
    }
    expect(cells).toBeGreaterThan(100);

    const cache = env.CACHE;
    let entries = 0;
    let cursor: string | undefined;
    do {
      const page: KVNamespaceListResult<unknown, string> = await cache.list(cursor ? { cursor } : {});
      for (const key of page.keys) {
        entries++;
        expect(key.name).not.toContain(MARK);
        expect((await cache.get(key.name)) ?? "").not.toContain(MARK);
      }
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    expect(entries).toBeGreaterThan(0);
    expect(dataset.points.length).toBeGreaterThan(0);
    expect(JSON.stringify(dataset.points)).not.toContain(MARK);
  });

  it("a stored row holds the credential only sealed, bound to its key, and a refused read keeps it", async () => {
    const w = webhookEnv();
    const token = inkitToken("sealed-only");
    const conn = await connect(w, token);
    const row = await sealedRow(conn.id);
    expect(row.key_id).toBe("k2");
    expect(row.sealed?.startsWith("k2.")).toBe(true);
    expect(row.sealed).not.toContain(token);
    expect(row.sealed).not.toContain(btoa(token).slice(0, 16));
    // Two connections of one token seal it differently (a fresh IV each time).
    const again = await connect(w, token);
    expect((await sealedRow(again.id)).sealed).not.toBe(row.sealed);

    await inkit.revoke(token);
    await expectProblem(await listThrough(w, conn.id), 409, "connection-invalid");
    expect(await sealedRow(conn.id)).toEqual(row);
    await inkitSim.reinstate(token);
    const back = await callAppJson<{ ok: boolean; status: string }>(w, `/v1/connections/${conn.id}/test`, {
      method: "POST",
    });
    expect(back.body).toMatchObject({ ok: true, status: "active" });
    expect((await listThrough(w, conn.id)).status).toBe(200);
  });
});

describe("encryption at rest, with key rotation", () => {
  it("a credential sealed by an older key still opens; the cron seals it again under the first key, which alone opens it", async () => {
    const old = webhookEnv({ CONNECTION_ENCRYPTION_KEYS: K1_ONLY });
    const w = webhookEnv();
    const conn = await connect(old, inkitToken("k1-sealed"));
    const before = await sealedRow(conn.id);
    expect(before.key_id).toBe("k1");
    expect(before.sealed?.startsWith("k1.")).toBe(true);

    // Read with the deployment's keyring (k2 first, k1 after): k1 still opens it.
    expect((await listThrough(w, conn.id)).status).toBe(200);

    // A cron tick seals it again under k2.
    await runCron(w);
    const after = await sealedRow(conn.id);
    expect(after.key_id).toBe("k2");
    expect(after.sealed?.startsWith("k2.")).toBe(true);
    expect(after.sealed).not.toBe(before.sealed);
    expect(await resealOlder(w.env)).toBe(0);

    // k1 can now be removed: k2 alone opens it, k1 alone no longer does.
    forgetConnections();
    expect((await listThrough(webhookEnv({ CONNECTION_ENCRYPTION_KEYS: K2_ONLY }), conn.id)).status).toBe(200);
    forgetConnections();
    const k1Only = await listThrough(old, conn.id);
    const problem = await expectProblem(k1Only, 503, "deployment-incomplete");
    expect(problem.detail).toContain(conn.id);
    expect(problem.detail).toMatch(/key k2/);
    expect(problem.detail).toContain("CONNECTION_ENCRYPTION_KEYS");
  });

  it("resealOlder seals again only what an older key sealed, a bounded number at a time, and never a deleted one", async () => {
    const old = webhookEnv({ CONNECTION_ENCRYPTION_KEYS: K1_ONLY });
    const w = webhookEnv();
    const a = await connect(old, inkitToken("batch-a"));
    const b = await connect(old, inkitToken("batch-b"));
    const gone = await connect(old, inkitToken("batch-gone"));
    const fresh = await connect(w, inkitToken("batch-fresh"));
    const freshBefore = await sealedRow(fresh.id);
    expect((await callApp(w, `/v1/connections/${gone.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await resealOlder(w.env, 1)).toBe(1);
    expect(await resealOlder(w.env, 10)).toBe(1);
    expect(await resealOlder(w.env, 10)).toBe(0);
    for (const id of [a.id, b.id]) expect((await sealedRow(id)).key_id).toBe("k2");
    expect(await sealedRow(gone.id)).toMatchObject({ sealed: null, key_id: null });
    expect(await sealedRow(fresh.id)).toEqual(freshBefore);
    for (const id of [a.id, b.id]) expect((await listThrough(w, id)).status).toBe(200);
  });

  it("a credential no listed key opens is logged by the reseal (id and key, nothing more) and left as it is", async () => {
    const lost = webhookEnv({ CONNECTION_ENCRYPTION_KEYS: "k0:a-key-since-removed-from-the-list-0123456789" });
    const w = webhookEnv({ LOG_LEVEL: "error" });
    const conn = await connect(lost, inkitToken("k0-sealed"));
    const before = await sealedRow(conn.id);
    const { result, lines } = await captureLogs(() => resealOlder(w.env));
    expect(result).toBe(0);
    expect(await sealedRow(conn.id)).toEqual(before);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { level: "error", msg: "connection credential not opened", connection: conn.id, key_id: "k0" },
    ]);
    const problem = await expectProblem(await listThrough(w, conn.id), 503, "deployment-incomplete");
    expect(problem.detail).toMatch(/key k0/);
  });

  it("a sealed value copied to another row, or another tenant's, does not open there", async () => {
    const w = webhookEnv();
    const a = await connect(w, inkitToken("copy-a"));
    const b = await connect(w, inkitToken("copy-b"));
    const theirs = await connect(w, inkitToken("copy-theirs"), TEST_API_KEY_2);
    const source = await sealedRow(a.id);
    const keys = connectionKeys(w.env);
    if ("problem" in keys) throw new Error(keys.problem);

    // The keyring itself: the row it was sealed for opens it, no other id or tenant does.
    expect(await openCredential(keys.keys, source as SealedRow & { sealed: string })).toBe(inkitToken("copy-a"));
    await expect(openCredential(keys.keys, { ...source, id: b.id, sealed: source.sealed as string })).rejects.toThrow();
    const theirTenant = (await sealedRow(theirs.id)).tenant;
    await expect(
      openCredential(keys.keys, { ...source, tenant: theirTenant, sealed: source.sealed as string }),
    ).rejects.toThrow();

    // Through the API: copied into another of my rows, and into another key's row.
    for (const target of [b.id, theirs.id]) {
      await env.DB.prepare("UPDATE connections SET sealed = ?, key_id = ? WHERE id = ?")
        .bind(source.sealed, source.key_id, target)
        .run();
    }
    forgetConnections();
    await inkitSim.clearCounters();
    for (const [id, auth] of [
      [b.id, undefined],
      [theirs.id, TEST_API_KEY_2],
    ] as const) {
      const listed = await expectProblem(await listThrough(w, id, auth), 503, "deployment-incomplete");
      expect(listed.detail).toContain(id);
      const tested = await callApp(w, `/v1/connections/${id}/test`, { method: "POST", ...(auth ? { auth } : {}) });
      const problem = await expectProblem(tested, 503, "deployment-incomplete");
      expect(problem.detail).toContain(id);
    }
    // Nothing was read with a's credential on their behalf.
    expect((await inkitSim.counters()).total).toBe(0);
    expect((await listThrough(w, a.id)).status).toBe(200);
  });

  it("a wrong key under the same id: 503 deployment-incomplete naming the key, never a 500, and nothing is marked invalid", async () => {
    const w = webhookEnv();
    const wrong = webhookEnv({ CONNECTION_ENCRYPTION_KEYS: WRONG_K2 });
    const conn = await connect(w, inkitToken("wrong-key"));
    const sub = await callAppJson(w, "/v1/event-subscriptions", {
      method: "POST",
      json: { sources: [`inkit:runs@${conn.id}`] },
    });
    expect(sub.res.status).toBe(201);
    forgetConnections();
    await inkitSim.clearCounters();

    for (const [path, init] of [
      [`/v1/inkit/runs?connection=${conn.id}`, {}],
      [`/v1/runs?source=inkit@${conn.id}`, {}],
      [`/v1/connections/${conn.id}/test`, { method: "POST" }],
    ] as const) {
      forgetConnections();
      const res = await callApp(wrong, path, { ...init, headers: noCache });
      const problem = await expectProblem(res, 503, "deployment-incomplete");
      expect(problem.detail, path).toContain(conn.id);
      expect(problem.detail, path).toMatch(/key k2/);
      expect(problem.detail, path).not.toContain("not-the-secret");
    }
    // A detection tick with that keyring makes no upstream call and changes nothing.
    forgetConnections();
    const { lines } = await captureLogs(() => runCron(wrong));
    expect(lines.join("\n")).not.toContain("not-the-secret");
    expect((await inkitSim.counters()).total).toBe(0);
    const got = await callAppJson<Connection>(w, `/v1/connections/${conn.id}`);
    expect(got.body.status).toBe("active");
    expect(await rows("SELECT * FROM connection_transitions")).toEqual([]);
  });

  it("a deployment without CONNECTION_ENCRYPTION_KEYS (or with a short one) answers 503 naming the step, and stores nothing", async () => {
    const w = webhookEnv();
    const existing = await connect(w, inkitToken("keyless"));
    const before = await sealedRow(existing.id);
    await inkitSim.clearCounters();
    for (const keys of [undefined, "", "k1:too-short"]) {
      const keyless = webhookEnv({ CONNECTION_ENCRYPTION_KEYS: keys });
      forgetConnections();
      const created = await callApp(keyless, "/v1/connections", {
        method: "POST",
        json: inkitBody(inkitToken("keyless-new")),
      });
      const problem = await expectProblem(created, 503, "deployment-incomplete");
      expect(problem.detail).toContain("CONNECTION_ENCRYPTION_KEYS");
      if (keys === "k1:too-short") expect(problem.detail).toMatch(/key k1/);
      expect(JSON.stringify(problem)).not.toContain("too-short");

      for (const [path, init] of [
        [`/v1/inkit/runs?connection=${existing.id}`, {}],
        [`/v1/connections/${existing.id}/test`, { method: "POST" }],
        [`/v1/connections/${existing.id}`, { method: "PATCH", json: { credentials: { api_token: inkitToken("k") } } }],
      ] as const) {
        const res = await callApp(keyless, path, { ...init, headers: noCache });
        const refused = await expectProblem(res, 503, "deployment-incomplete");
        expect(refused.detail, path).toContain("CONNECTION_ENCRYPTION_KEYS");
      }
      expect(await resealOlder(keyless.env)).toBe(0);
      // What needs no key still answers.
      expect((await callApp(keyless, "/v1/connections")).status).toBe(200);
      expect((await callApp(keyless, `/v1/connections/${existing.id}`)).status).toBe(200);
    }
    expect(await rows("SELECT id FROM connections")).toEqual([{ id: existing.id }]);
    expect(await sealedRow(existing.id)).toEqual(before);
    expect((await inkitSim.counters()).total).toBe(0);
  });
});
