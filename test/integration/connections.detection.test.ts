// Change detection per connection: a revoked token pauses its sources without a call and loses nothing, a rotation
// keeps the frontier, a deletion stops detection and forgets its state, and an inbound push re-checks each tenant's
// source with its own credential.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS, INKIT_API_TOKENS } from "../../simulator/credentials";
import { connectionKeys, sealCredential } from "../../src/connections/keyring";
import { type ConnectionRow, saveConnection } from "../../src/connections/store";
import { checkSource } from "../../src/detection/check";
import { sourceDeps } from "../../src/detection/sources";
import { isoMicros } from "../../src/shared/time";
import { TEST_API_KEY, TEST_API_KEY_2, TEST_EIGHTBYEIGHT_INBOUND_SECRET } from "../setup/bindings";
import {
  asLogged,
  type Connection,
  connectEightByEight,
  connectInkit,
  eightByEightKey,
  eightByEightOf,
  inkitBatchesOf,
  inkitRunsOf,
  inkitToken,
  patchCredential,
  StreamFollower,
  tick,
} from "../support/connections";
import { expectStream, type StreamSource, StreamTruth } from "../support/detection";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import {
  callApp,
  callAppJson,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

const { supportTriage } = EIGHT_BY_EIGHT_DEFINITION_IDS.other;
const { smsKeywordRouter } = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

afterEach(() => {
  vi.useRealTimers();
});

/** A poll-only subscription of the API key `auth` to these sources. */
async function subscribe(w: WebhookEnv, sources: string[], auth: string = TEST_API_KEY) {
  const { res, body } = await callAppJson(w, "/v1/event-subscriptions", { method: "POST", json: { sources }, auth });
  expect(res.status, JSON.stringify(body)).toBe(201);
}

/** Inkit's three listings of a simulator account, read through `conn`. */
const inkitListingsOf = (account: "demo" | "other", conn: Connection): StreamSource[] => [
  inkitRunsOf(account, `inkit:runs@${conn.id}`),
  inkitBatchesOf(account, "workflow_batch", `inkit:workflow-batches@${conn.id}`),
  inkitBatchesOf(account, "document_batch", `inkit:batches@${conn.id}`),
];

/** Calls the simulators answered per exact credential since their counters were last cleared. */
async function callsByCredential(): Promise<Record<string, number>> {
  const [inkit, eightByEight] = await Promise.all([inkitSim.callsByCredential(), eightByEightSim.callsByCredential()]);
  return { ...inkit, ...eightByEight };
}

async function clearCounters() {
  await Promise.all([inkitSim.clearCounters(), eightByEightSim.clearCounters()]);
}

/** Calls with any credential of a simulator account (a `~tag` of it or not). */
const callsOfAccount = (calls: Record<string, number>, base: string) =>
  Object.entries(calls)
    .filter(([credential]) => credential.split("~")[0] === base)
    .reduce((n, [, count]) => n + count, 0);

/** Saves a new credential for the connection as a PATCH in another isolate would: this isolate forgets nothing. */
async function replacedElsewhere(conn: Connection, credential: string) {
  const keys = connectionKeys(env as Env);
  if ("problem" in keys) throw new Error(keys.problem);
  const [stored] = await rows<ConnectionRow>("SELECT * FROM connections WHERE id = ?", conn.id);
  const row = stored as ConnectionRow;
  const { keyId, sealed } = await sealCredential(keys.keys, row, credential);
  const next = { ...row, sealed, key_id: keyId, updated_at: isoMicros(Date.now() + 1) };
  expect(await saveConnection(env.DB, next)).toBe(true);
}

const connectionEvents = (stream: StreamFollower, type: string, id: string) =>
  stream.events.filter((e) => e.type === type && e.data.object.id === id);

/**
 * A connection of the demo account (credential tag `tag`) whose three Inkit listings the first API key watches, beside
 * the other key watching the other account's runs through a connection of its own: the tenant a test must not touch.
 */
async function watchedBesideAnother(w: WebhookEnv, tag: string) {
  const conn = await connectInkit(w, "demo", tag);
  const bystander = await connectInkit(w, "other", "bystander", TEST_API_KEY_2);
  const sources = inkitListingsOf("demo", conn);
  const theirs = inkitRunsOf("other", `inkit:runs@${bystander.id}`);
  await subscribe(
    w,
    sources.map((s) => s.source),
  );
  await subscribe(w, [theirs.source], TEST_API_KEY_2);
  return { conn, sources, theirs };
}

describe("a revoked token", () => {
  it("is one connection.invalid, no upstream call while invalid, then every change made meanwhile once and one connection.recovered", async () => {
    const w = webhookEnv();
    const { conn, sources, theirs } = await watchedBesideAnother(w, "revoked");
    await tick(w); // baselines
    const [runs, workflowBatches, batches] = sources.map((s) => new StreamTruth(s)) as [
      StreamTruth,
      StreamTruth,
      StreamTruth,
    ];
    const theirTruth = new StreamTruth(theirs);
    const open = {
      runs: await runs.insert(4, "In Progress"),
      workflowBatches: await workflowBatches.insert(2, "In Progress"),
      batches: await batches.insert(2, "In Progress"),
    };
    await theirTruth.insert(2, "In Progress");
    await tick(w);

    const token = inkitToken("demo", "revoked");
    await inkitSim.revoke(token);
    await runs.insert(2, "Pending");
    await runs.setStatus(open.runs.slice(0, 1), "Completed");
    await clearCounters();
    await tick(w); // the first read is refused: the connection becomes invalid
    const refusedTick = (await callsByCredential())[token] ?? 0;
    expect(refusedTick).toBeGreaterThan(0);

    const stream = new StreamFollower(w, TEST_API_KEY);
    const theirStream = new StreamFollower(w, TEST_API_KEY_2);
    for (let round = 0; round < 3; round++) {
      // Changes in both accounts while the connection is invalid.
      await runs.insert(1, "In Progress");
      await runs.setStatus(open.runs.slice(1 + round, 2 + round), round === 1 ? "Failed" : "Completed");
      await workflowBatches.insert(1, "In Progress");
      if (round === 0) await workflowBatches.setStatus(open.workflowBatches, "Completed");
      if (round === 1) await batches.setStatus(open.batches.slice(0, 1), "Failed");
      await batches.insert(1, "In Progress");
      await theirTruth.insert(1, "In Progress");
      await clearCounters();
      expect(await tick(w), "only the other tenant's source is checked").toBe(1);
      const calls = await callsByCredential();
      expect(callsOfAccount(calls, INKIT_API_TOKENS.demo), "no call for the invalid connection's account").toBe(0);
      expect(calls[inkitToken("other", "bystander")]).toBeGreaterThan(0);
    }
    await stream.follow();
    expect(connectionEvents(stream, "connection.invalid", conn.id).length).toBe(1);
    expect(connectionEvents(stream, "connection.invalid", conn.id)[0]?.data.object.status).toBe("invalid");

    const recovered = await patchCredential(w, conn, inkitToken("demo", "revoked-2"));
    expect(recovered.status).toBe("active");
    await tick(w);
    await stream.follow();
    for (const [i, truth] of [runs, workflowBatches, batches].entries()) {
      const src = sources[i] as StreamSource;
      expectStream(asLogged(stream.of(src.source)), truth, src);
    }
    await tick(w);
    await stream.follow();
    for (const [i, truth] of [runs, workflowBatches, batches].entries()) {
      const src = sources[i] as StreamSource;
      expectStream(asLogged(stream.of(src.source)), truth, src);
    }
    expect(connectionEvents(stream, "connection.invalid", conn.id).length).toBe(1);
    expect(connectionEvents(stream, "connection.recovered", conn.id).length).toBe(1);
    // The other tenant's connection went on as if nothing happened, and saw none of it.
    await theirStream.follow();
    expectStream(asLogged(theirStream.of(theirs.source)), theirTruth, theirs);
    expect(theirStream.events.every((e) => e.source === theirs.source)).toBe(true);
    console.log(`[cost] the tick that found the token revoked: ${refusedTick} upstream calls with it (3 sources)`);
  });
});

describe("refusals at the same time", () => {
  it("checks of a connection's three sources refused at once record one connection.invalid", async () => {
    const w = webhookEnv();
    const conn = await connectInkit(w, "demo", "concurrent");
    const sources = inkitListingsOf("demo", conn).map((s) => s.source);
    await subscribe(w, sources);
    await tick(w);
    await inkitSim.revoke(inkitToken("demo", "concurrent"));
    const deps = sourceDeps(w.env, () => {});
    // As three invocations of the detection queue's consumer would, each holding the connection as active: each
    // reads, and each is refused.
    await clearCounters();
    await Promise.all(sources.map((source) => checkSource(w.env, deps, source).catch(String)));
    expect((await callsByCredential())[inkitToken("demo", "concurrent")]).toBeGreaterThanOrEqual(3);
    const stream = new StreamFollower(w, TEST_API_KEY);
    await stream.follow();
    expect(stream.events.map((e) => e.type)).toEqual(["connection.invalid"]);
    expect(await rows("SELECT from_status, to_status FROM connection_transitions")).toEqual([
      { from_status: "active", to_status: "invalid" },
    ]);
    await clearCounters();
    expect(await tick(w)).toBe(0);
    expect(callsOfAccount(await callsByCredential(), INKIT_API_TOKENS.demo)).toBe(0);
  });
});

describe("rotation", () => {
  it("a new credential of the same account between ticks continues from the frontier: no new baseline, nothing missed or repeated", async () => {
    const w = webhookEnv();
    const inkit = await connectInkit(w, "demo", "rotate-1");
    const eightByEight = await connectEightByEight(w, "other", "rotate-1");
    const sources = [
      inkitRunsOf("demo", `inkit:runs@${inkit.id}`),
      eightByEightOf("other", supportTriage, `8x8:globex-support/${supportTriage}@${eightByEight.id}`),
    ];
    await subscribe(
      w,
      sources.map((s) => s.source),
    );
    await tick(w);
    const [runs, instances] = sources.map((s) => new StreamTruth(s)) as [StreamTruth, StreamTruth];
    const openRuns = await runs.insert(3, "In Progress");
    const openInstances = await instances.insert(2, "Runnable");
    await tick(w);
    const versions = async () =>
      rows<{ source: string; credential: string; version: number }>(
        "SELECT source, credential, version FROM detection_state ORDER BY source",
      );
    const before = await versions();

    // Changes before and after the rotation; the old credential is revoked at once, as one does after rotating.
    await runs.insert(2, "In Progress", true);
    await instances.setStatus(openInstances.slice(0, 1), "Complete");
    await patchCredential(w, inkit, inkitToken("demo", "rotate-2"));
    await patchCredential(w, eightByEight, eightByEightKey("other", "rotate-2"));
    await inkitSim.revoke(inkitToken("demo", "rotate-1"));
    await eightByEightSim.revoke(eightByEightKey("other", "rotate-1"));
    await runs.setStatus(openRuns.slice(0, 2), "Completed");
    await instances.insert(1, "Runnable");
    await clearCounters();
    await tick(w);
    const calls = await callsByCredential();
    expect(Object.keys(calls).sort()).toEqual(
      [inkitToken("demo", "rotate-2"), eightByEightKey("other", "rotate-2")].sort(),
    );

    const stream = new StreamFollower(w, TEST_API_KEY);
    await stream.follow();
    for (const [i, truth] of [runs, instances].entries()) {
      const src = sources[i] as StreamSource;
      expectStream(asLogged(stream.of(src.source)), truth, src);
    }
    expect(stream.events.filter((e) => e.type.startsWith("connection."))).toEqual([]);
    // The same state rows (kept under the connection's id), one check further: no new baseline, which would have
    // announced nothing of what changed in between.
    expect((await versions()).map((v) => ({ ...v, version: v.version - 1 }))).toEqual(before);
    expect(before.map((v) => v.credential).sort()).toEqual([inkit.id, eightByEight.id].sort());
  });

  it("a credential replaced in another isolate: the refusal of the old one, still held here, marks nothing invalid", async () => {
    const w = webhookEnv();
    const conn = await connectInkit(w, "demo", "isolate-1");
    const src = inkitRunsOf("demo", `inkit:runs@${conn.id}`);
    await subscribe(w, [src.source]);
    await tick(w); // this isolate now holds the connection's credential
    const truth = new StreamTruth(src);
    await truth.insert(2, "In Progress");

    // Another isolate saves a new credential (PATCH there) and the old one is revoked: this one keeps the old one for
    // a while.
    await replacedElsewhere(conn, inkitToken("demo", "isolate-2"));
    await inkitSim.revoke(inkitToken("demo", "isolate-1"));

    // Within the minute, this isolate's check still reads with the old credential, and Inkit refuses it.
    await clearCounters();
    await runCron(w);
    expect((await callsByCredential())[inkitToken("demo", "isolate-1")]).toBeGreaterThan(0);
    const stream = new StreamFollower(w, TEST_API_KEY);
    await stream.follow();
    expect(stream.events.filter((e) => e.type.startsWith("connection."))).toEqual([]);
    expect((await callAppJson<Connection>(w, `/v1/connections/${conn.id}`)).body.status).toBe("active");
    expect(await rows("SELECT * FROM connection_transitions")).toEqual([]);

    // The refusal made this isolate forget what it held: from now on it reads with the new credential.
    await clearCounters();
    await tick(w);
    expect(Object.keys(await callsByCredential())).toEqual([inkitToken("demo", "isolate-2")]);
    await stream.follow();
    expectStream(asLogged(stream.of(src.source)), truth, src);

    // The same for a listing: refused with the credential this isolate held, it says so; the retry reads.
    const path = `/v1/inkit/runs?limit=5&connection=${conn.id}`;
    expect((await callApp(w, path)).status).toBe(200);
    await replacedElsewhere(conn, inkitToken("demo", "isolate-3"));
    await inkitSim.revoke(inkitToken("demo", "isolate-2"));
    const refused = await expectProblem(await callApp(w, path), 409, "connection-invalid");
    expect(refused.detail).toMatch(/changed meanwhile .* still active\. Retry/);
    expect((await callApp(w, path)).status).toBe(200);
    expect((await callAppJson<Connection>(w, `/v1/connections/${conn.id}`)).body.status).toBe("active");
    expect(await rows("SELECT * FROM connection_transitions")).toEqual([]);
  });
});

describe("delete", () => {
  it("stops detection: no check for its sources, their state forgotten, connection.deleted once", async () => {
    const w = webhookEnv();
    const { conn, sources, theirs } = await watchedBesideAnother(w, "deleted");
    await tick(w);
    const runs = new StreamTruth(sources[0] as StreamSource);
    await runs.insert(2, "In Progress");
    await tick(w);
    const stateOf = async () =>
      rows<{ source: string }>(
        `SELECT source FROM detection_state WHERE source LIKE ?1
         UNION ALL SELECT source FROM watched_items WHERE source LIKE ?1
         UNION ALL SELECT source FROM detection_checks WHERE source LIKE ?1`,
        `%@${conn.id}`,
      );
    expect((await stateOf()).length).toBeGreaterThan(0);

    const deleted = await callApp(w, `/v1/connections/${conn.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    const stream = new StreamFollower(w, TEST_API_KEY);
    for (let round = 0; round < 3; round++) {
      await inkitSim.insert({ kind: "run", count: 1, tenant: "demo" });
      await inkitSim.insert({ kind: "workflow_batch", count: 1, tenant: "demo" });
      await clearCounters();
      const before = w.detection.sent.length;
      expect(await tick(w)).toBe(1);
      expect(w.detection.sent.slice(before).map((m) => m.body.source)).toEqual([theirs.source]);
      expect(callsOfAccount(await callsByCredential(), INKIT_API_TOKENS.demo)).toBe(0);
      expect(await stateOf()).toEqual([]);
    }
    await stream.follow();
    expect(connectionEvents(stream, "connection.deleted", conn.id).length).toBe(1);
    expectStream(asLogged(stream.of(sources[0]?.source as string)), runs, sources[0] as StreamSource);
    expect(stream.events.filter((e) => e.source !== null && e.source !== sources[0]?.source)).toEqual([]);
  });
});

describe("inbound 8x8 pushes", () => {
  /** Pushes an 8x8 notification about an instance, as an `HttpRequest` step would. */
  async function push(w: WebhookEnv, body: Record<string, string>) {
    const { res, body: answer } = await callAppJson<{ sources: { source: string; outcome: string; events: number }[] }>(
      w,
      "/v1/inbound/8x8",
      {
        method: "POST",
        auth: false,
        json: body,
        headers: { Authorization: `Bearer ${TEST_EIGHTBYEIGHT_INBOUND_SECRET}` },
      },
    );
    expect(res.status, JSON.stringify(answer)).toBe(202);
    return answer.sources;
  }

  it("re-check each tenant's source of the named definition with its own credential; events reach only its owner", async () => {
    const w = webhookEnv();
    // Both tenants watch the same definition of the same account, each through a connection of its own; A also
    // watches a definition of another account that B cannot read.
    const a = await connectEightByEight(w, "other", "push-a");
    const b = await connectEightByEight(w, "other", "push-b", TEST_API_KEY_2);
    const aElsewhere = await connectEightByEight(w, "demo", "push-a");
    const triage = (conn: Connection) =>
      eightByEightOf("other", supportTriage, `8x8:globex-support/${supportTriage}@${conn.id}`);
    const [srcA, srcB] = [triage(a), triage(b)];
    const srcSms = eightByEightOf("demo", smsKeywordRouter, `8x8:acme-ops/${smsKeywordRouter}@${aElsewhere.id}`);
    await subscribe(w, [srcA.source, srcSms.source]);
    await subscribe(w, [srcB.source], TEST_API_KEY_2);
    await tick(w); // baselines
    const [truthA, truthB, truthSms] = [new StreamTruth(srcA), new StreamTruth(srcB), new StreamTruth(srcSms)];
    const streamA = new StreamFollower(w, TEST_API_KEY);
    const streamB = new StreamFollower(w, TEST_API_KEY_2);
    /** The account both tenants read: what changes there is the truth of both. */
    const shared = {
      async insert(count: number, status: string) {
        const ids = await truthA.insert(count, status);
        for (const id of ids) truthB.created.set(id, truthA.created.get(id) as string);
        return ids;
      },
    };

    const [created] = await shared.insert(1, "Runnable");
    await clearCounters();
    const first = await push(w, {
      workflowId: created as string,
      definitionId: supportTriage,
      accountId: "globex-support",
      status: "Runnable",
    });
    expect(first.map((s) => [s.source, s.outcome, s.events]).sort()).toEqual(
      [
        [srcA.source, "checked", 1],
        [srcB.source, "checked", 1],
      ].sort(),
    );
    expect(Object.keys(await callsByCredential()).sort()).toEqual(
      [eightByEightKey("other", "push-a"), eightByEightKey("other", "push-b")].sort(),
    );
    await streamA.follow();
    await streamB.follow();
    expectStream(asLogged(streamA.of(srcA.source)), truthA, srcA);
    expectStream(asLogged(streamB.of(srcB.source)), truthB, srcB);
    expect(streamB.events.every((e) => e.source === srcB.source)).toBe(true);
    expect(streamA.events.every((e) => e.source === srcA.source)).toBe(true);

    // A definition only tenant A watches: tenant B is neither read for nor told.
    const [sms] = await truthSms.insert(1, "Runnable");
    await clearCounters();
    const second = await push(w, {
      workflowId: sms as string,
      definitionId: smsKeywordRouter,
      accountId: "acme-ops",
      status: "Runnable",
    });
    expect(second.map((s) => [s.source, s.outcome, s.events])).toEqual([[srcSms.source, "checked", 1]]);
    expect(Object.keys(await callsByCredential())).toEqual([eightByEightKey("demo", "push-a")]);
    expect(await streamB.follow()).toEqual([]);

    // Tenant A's key for the shared account is revoked (its next check finds out): a push pauses A's source without a
    // call, and B's is read as before.
    await eightByEightSim.revoke(eightByEightKey("other", "push-a"));
    await tick(w);
    await truthB.setStatus([created as string], "Complete");
    await clearCounters();
    const third = await push(w, {
      workflowId: created as string,
      definitionId: supportTriage,
      accountId: "globex-support",
      status: "Complete",
    });
    expect(third.map((s) => [s.source, s.outcome, s.events]).sort()).toEqual(
      [
        [srcA.source, "paused", 0],
        [srcB.source, "checked", 2],
      ].sort(),
    );
    expect(Object.keys(await callsByCredential())).toEqual([eightByEightKey("other", "push-b")]);
    await streamA.follow();
    await streamB.follow();
    expectStream(asLogged(streamB.of(srcB.source)), truthB, srcB);
    expect(streamB.events.every((e) => e.source === srcB.source)).toBe(true);
    // A saw its connection become invalid, and nothing of what B was told since.
    expect(streamA.events.filter((e) => e.source === null).map((e) => e.type)).toEqual(["connection.invalid"]);
    expect(streamA.of(srcA.source).map((e) => e.type)).toEqual(["run.created"]);
    expectStream(asLogged(streamA.of(srcSms.source)), truthSms, srcSms);
  });
});
