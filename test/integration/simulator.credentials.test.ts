// Revoking and reinstating credentials on both simulators, over real HTTP, and the probes tributary sends before it
// stores a credential. The seed docs name the auth headers and Inkit's 401 but no 401 body: a revoked credential gets
// exactly what an unknown one gets (simulator/README.md, "Credentials and tenants").
import { beforeAll, describe, expect, it } from "vitest";
import {
  EIGHT_BY_EIGHT_ACCOUNT_IDS,
  EIGHT_BY_EIGHT_API_KEYS,
  EIGHT_BY_EIGHT_DEFINITION_IDS,
  INKIT_API_TOKENS,
} from "../../simulator/credentials";
import { eightByEightErrors } from "../fixtures/seeds";
import { shapeOf } from "../support/shape";
import { eightByEightSim, inkitSim, mutationsOf } from "../support/simulator";

const INKIT_DEMO = INKIT_API_TOKENS.demo;
const KEY_DEMO = EIGHT_BY_EIGHT_API_KEYS.demo;
const ACME = EIGHT_BY_EIGHT_ACCOUNT_IDS.demo;
const { orderNotifications } = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;

/** The definition id of 8x8's probe: a UUID no account has. */
const NO_DEFINITION = "00000000-0000-0000-0000-000000000000";
const INKIT_PROBE = "/v1/invoke?page=1&page_size=1";
const eightByEightProbe = (accountId: string = ACME) =>
  `/api/v1/accounts/${accountId}/definitions/${NO_DEFINITION}/workflows?limit=1`;
const eightByEightListing = (accountId: string = ACME) =>
  `/api/v1/accounts/${accountId}/definitions/${orderNotifications}/workflows`;

function inkit(path: string, token: string | null) {
  return fetch(new URL(path, inkitSim.url), { headers: token === null ? {} : { "X-Inkit-API-Token": token } });
}

function eightByEight(path: string, key: string | null) {
  return fetch(new URL(path, eightByEightSim.url), {
    headers: key === null ? {} : { Authorization: `Bearer ${key}` },
  });
}

/** Status and body, with 8x8's per-error `errorId` and `timestamp` set aside (checked for shape by the caller). */
async function answer(res: Response) {
  const body = (await res.json()) as Record<string, unknown>;
  const { errorId: _id, timestamp: _at, ...rest } = body;
  return { status: res.status, body: rest };
}

/** 8x8's documented error body, `{code, message, errorId, timestamp}`, with this status and code. */
async function eightByEightError(res: Response, status: number, code: number) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { code: number; message: string };
  expect(shapeOf(body)).toEqual(shapeOf(eightByEightErrors[0]));
  expect(body.code).toBe(code);
  return body;
}

const inkitChanges = mutationsOf(inkitSim);
const eightByEightChanges = mutationsOf(eightByEightSim);

let inkitRoutes: string[];
let instancePath: string;

beforeAll(async () => {
  await Promise.all([inkitSim.reset(), eightByEightSim.reset()]);
  const batches = (await (await inkit("/v1/invoke/batch?page_size=1", INKIT_DEMO)).json()) as {
    items: { id: string }[];
  };
  const documents = (await (await inkit("/v1/batch?page_size=1", INKIT_DEMO)).json()) as { items: { id: string }[] };
  inkitRoutes = [
    "/v1/invoke",
    INKIT_PROBE,
    "/v1/invoke/batch",
    `/v1/invoke/batch/${batches.items[0]?.id}`,
    "/v1/batch",
    `/v1/batch/${documents.items[0]?.id}`,
  ];
  const [instance] = (await (await eightByEight(`${eightByEightListing()}?limit=1`, KEY_DEMO)).json()) as {
    workflowId: string;
  }[];
  instancePath = `${eightByEightListing()}/${instance?.workflowId}`;
});

describe("Inkit: revoked tokens", () => {
  it("a revoked token gets what an unknown one gets (401, the same body) on every route; reinstated, 200 again", async () => {
    const token = `${INKIT_DEMO}~a`;
    for (const path of inkitRoutes) expect((await inkit(path, token)).status, path).toBe(200);
    expect(await inkitChanges.revoke(token)).toEqual({ credential: token, tenant: "demo", revoked: true });
    expect(await inkitSim.revoked()).toEqual([token]);
    for (const path of inkitRoutes) {
      const revoked = await answer(await inkit(path, token));
      expect(revoked, path).toEqual(await answer(await inkit(path, "sim_inkit_unknown_token")));
      expect(revoked, path).toEqual({
        status: 401,
        body: { error: { code: "unauthorized", message: "Missing or invalid X-Inkit-API-Token." } },
      });
    }
    expect(await inkitSim.reinstate(token)).toEqual({ credential: token, tenant: "demo", revoked: false });
    expect(await inkitSim.revoked()).toEqual([]);
    for (const path of inkitRoutes) expect((await inkit(path, token)).status, path).toBe(200);
  });

  it("revocation is per exact string: the untagged token and a sibling ~tag keep working (a rotation)", async () => {
    await inkitChanges.revoke(`${INKIT_DEMO}~a`);
    expect((await inkit(INKIT_PROBE, `${INKIT_DEMO}~a`)).status).toBe(401);
    const fresh = await inkit(INKIT_PROBE, `${INKIT_DEMO}~b`);
    const untagged = await inkit(INKIT_PROBE, INKIT_DEMO);
    expect([fresh.status, untagged.status]).toEqual([200, 200]);
    // The same account: the same page.
    expect(await fresh.text()).toBe(await untagged.text());
    // Revoking the untagged token leaves the tagged ones alone too.
    await inkitChanges.revoke(INKIT_DEMO);
    expect((await inkit(INKIT_PROBE, INKIT_DEMO)).status).toBe(401);
    expect((await inkit(INKIT_PROBE, `${INKIT_DEMO}~b`)).status).toBe(200);
    expect((await inkit(INKIT_PROBE, INKIT_API_TOKENS.other)).status).toBe(200);
  });

  it("the probe (GET /v1/invoke?page=1&page_size=1): one run and its page for a good token, 401 for a bad one", async () => {
    for (const [token, total] of [
      [INKIT_DEMO, 3000],
      [INKIT_API_TOKENS.other, 40],
    ] as const) {
      const res = await inkit(INKIT_PROBE, token);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        items: unknown[];
        metadata: { pagination: { current_page: number; page_size: number; total_count: number } };
      };
      expect(body.items).toHaveLength(1);
      expect(body.metadata.pagination).toMatchObject({ current_page: 1, page_size: 1, total_count: total });
    }
    for (const token of [null, "sim_inkit_unknown_token", EIGHT_BY_EIGHT_API_KEYS.demo])
      expect((await inkit(INKIT_PROBE, token)).status, String(token)).toBe(401);
  });
});

describe("8x8: revoked keys", () => {
  it("a revoked key gets what an unknown one gets (401, code 1100) on every route; reinstated, it answers again", async () => {
    const key = `${KEY_DEMO}~a`;
    const routes = [eightByEightListing(), eightByEightProbe(), instancePath];
    expect((await eightByEight(eightByEightListing(), key)).status).toBe(200);
    expect(await eightByEightChanges.revoke(key)).toEqual({ credential: key, tenant: "demo", revoked: true });
    expect(await eightByEightSim.revoked()).toEqual([key]);
    for (const path of routes) {
      const revoked = await eightByEight(path, key);
      const unknown = await eightByEight(path, "sim_8x8_unknown_key");
      expect(await answer(revoked.clone()), path).toEqual(await answer(unknown.clone()));
      expect(await eightByEightError(revoked, 401, 1100)).toMatchObject({ message: "Missing or invalid API key." });
      await eightByEightError(unknown, 401, 1100);
    }
    await eightByEightSim.reinstate(key);
    expect(await eightByEightSim.revoked()).toEqual([]);
    expect((await eightByEight(eightByEightListing(), key)).status).toBe(200);
    expect((await eightByEight(instancePath, key)).status).toBe(200);
    await eightByEightError(await eightByEight(eightByEightProbe(), key), 404, 1300);
  });

  it("revocation is per exact string: the untagged key and a sibling ~tag keep working (a rotation)", async () => {
    await eightByEightChanges.revoke(`${KEY_DEMO}~a`);
    await eightByEightError(await eightByEight(eightByEightProbe(), `${KEY_DEMO}~a`), 401, 1100);
    for (const key of [`${KEY_DEMO}~b`, KEY_DEMO]) {
      await eightByEightError(await eightByEight(eightByEightProbe(), key), 404, 1300);
      expect((await eightByEight(eightByEightListing(), key)).status).toBe(200);
    }
    await eightByEightChanges.revoke(KEY_DEMO);
    await eightByEightError(await eightByEight(eightByEightListing(), KEY_DEMO), 401, 1100);
    expect((await eightByEight(eightByEightListing(), `${KEY_DEMO}~b`)).status).toBe(200);
  });

  it("the probe (an all-zero definition id, limit=1): 404 code 1300 for a good key, 401 code 1100 for a bad one", async () => {
    const notFound = await eightByEightError(await eightByEight(eightByEightProbe(), KEY_DEMO), 404, 1300);
    // The docs' second error, word for word but the id.
    expect(notFound.message).toBe(`Definition ${NO_DEFINITION} not found.`);
    for (const key of [null, "sim_8x8_unknown_key", INKIT_DEMO])
      await eightByEightError(await eightByEight(eightByEightProbe(), key), 401, 1100);
  });

  it("a key for another account passes the probe (404 code 1300 too); its first real listing answers 404", async () => {
    const other = EIGHT_BY_EIGHT_API_KEYS.other;
    await eightByEightError(await eightByEight(eightByEightProbe(ACME), other), 404, 1300);
    await eightByEightError(await eightByEight(eightByEightListing(ACME), other), 404, 1300);
  });
});

describe("the admin routes", () => {
  it("only the simulator's own credentials (with or without a ~tag) can be revoked; bodies are strict", async () => {
    for (const [sim, foreign] of [
      [inkitSim, KEY_DEMO],
      [eightByEightSim, INKIT_DEMO],
    ] as const) {
      for (const body of [{ credential: foreign }, { credential: "nobody" }]) {
        const res = await fetch(`${sim.url}/__admin/credentials/revoke`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        expect(res.status).toBe(404);
        expect(await res.json()).toMatchObject({ error: { code: "unknown_credential" } });
      }
      for (const body of [{}, { credential: "" }, { token: INKIT_DEMO }, { credential: INKIT_DEMO, extra: 1 }]) {
        const res = await fetch(`${sim.url}/__admin/credentials/reinstate`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        expect(res.status, JSON.stringify(body)).toBe(400);
      }
      expect(await sim.revoked()).toEqual([]);
    }
    // Reinstating a credential that is not revoked is no error: it stays valid.
    expect(await inkitSim.reinstate(`${INKIT_DEMO}~never`)).toEqual({
      credential: `${INKIT_DEMO}~never`,
      tenant: "demo",
      revoked: false,
    });
    expect(await eightByEightSim.reinstate(EIGHT_BY_EIGHT_API_KEYS.other)).toMatchObject({ tenant: "other" });
  });

  it("POST /__admin/reset clears revocations on both simulators", async () => {
    await inkitSim.revoke(INKIT_DEMO);
    await inkitSim.revoke(`${INKIT_DEMO}~a`);
    await eightByEightSim.revoke(KEY_DEMO);
    expect(await inkitSim.revoked()).toEqual([INKIT_DEMO, `${INKIT_DEMO}~a`]);
    expect((await inkit(INKIT_PROBE, INKIT_DEMO)).status).toBe(401);
    await eightByEightError(await eightByEight(eightByEightProbe(), KEY_DEMO), 401, 1100);
    await Promise.all([inkitSim.reset(), eightByEightSim.reset()]);
    expect(await inkitSim.revoked()).toEqual([]);
    expect(await eightByEightSim.revoked()).toEqual([]);
    expect((await inkit(INKIT_PROBE, INKIT_DEMO)).status).toBe(200);
    expect((await inkit(INKIT_PROBE, `${INKIT_DEMO}~a`)).status).toBe(200);
    await eightByEightError(await eightByEight(eightByEightProbe(), KEY_DEMO), 404, 1300);
  });

  it("requests with a revoked credential are counted like any other; admin calls are not", async () => {
    await inkitChanges.revoke(`${INKIT_DEMO}~a`);
    await eightByEightChanges.revoke(`${KEY_DEMO}~a`);
    await Promise.all([inkitSim.clearCounters(), eightByEightSim.clearCounters()]);
    await inkit(INKIT_PROBE, `${INKIT_DEMO}~a`);
    await inkit("/v1/batch", `${INKIT_DEMO}~a`);
    await inkit(INKIT_PROBE, `${INKIT_DEMO}~b`);
    await inkitSim.reinstate(`${INKIT_DEMO}~a`);
    await inkit(INKIT_PROBE, `${INKIT_DEMO}~a`);
    expect(await inkitSim.counters()).toEqual({
      total: 4,
      items: 2,
      routes: { "GET /v1/invoke": 3, "GET /v1/batch": 1 },
    });
    const route = "GET /api/v1/accounts/:accountId/definitions/:definitionId/workflows";
    await eightByEight(eightByEightProbe(), `${KEY_DEMO}~a`);
    await eightByEight(`${eightByEightListing()}?limit=3`, `${KEY_DEMO}~a`);
    await eightByEight(instancePath, `${KEY_DEMO}~a`);
    await eightByEight(eightByEightProbe(), `${KEY_DEMO}~b`);
    await eightByEight(`${eightByEightListing()}?limit=3`, `${KEY_DEMO}~b`);
    expect(await eightByEightSim.counters()).toEqual({
      total: 5,
      items: 3,
      routes: { [route]: 4, [`${route}/:workflowId`]: 1 },
    });
  });

  it("counts requests per exact credential as sent, `~tag` included, unknown and missing ones too", async () => {
    await inkitChanges.revoke(`${INKIT_DEMO}~a`);
    await Promise.all([inkitSim.clearCounters(), eightByEightSim.clearCounters()]);
    await inkit(INKIT_PROBE, `${INKIT_DEMO}~a`);
    await inkit("/v1/batch", `${INKIT_DEMO}~a`);
    await inkit(INKIT_PROBE, INKIT_DEMO);
    await inkit(INKIT_PROBE, "no-such-token");
    await inkit(INKIT_PROBE, null);
    expect(await inkitSim.callsByCredential()).toEqual({
      [`${INKIT_DEMO}~a`]: 2,
      [INKIT_DEMO]: 1,
      "no-such-token": 1,
      "": 1,
    });
    await eightByEight(eightByEightProbe(), `${KEY_DEMO}~b`);
    await eightByEight(`${eightByEightListing()}?limit=3`, KEY_DEMO);
    await eightByEight(`${eightByEightListing()}?limit=3`, KEY_DEMO);
    expect(await eightByEightSim.callsByCredential()).toEqual({ [`${KEY_DEMO}~b`]: 1, [KEY_DEMO]: 2 });
    await inkitSim.clearCounters();
    expect(await inkitSim.callsByCredential()).toEqual({});
  });
});
