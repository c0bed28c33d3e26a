// Two tenants, each with its own Inkit and 8x8 connections, watching the same source keys through them: each tenant's
// events (pull stream and webhook), walks and saved feeds equal the truth of its own account, read with its own
// credential, and hold nothing of the other's.
import { beforeEach, describe, expect, it } from "vitest";
import {
  EIGHT_BY_EIGHT_ACCOUNT_IDS,
  EIGHT_BY_EIGHT_API_KEYS,
  EIGHT_BY_EIGHT_DEFINITION_IDS,
  type Tenant,
} from "../../simulator/credentials";
import { TEST_API_KEY, TEST_API_KEY_2 } from "../setup/bindings";
import {
  asLogged,
  type Connection,
  connectEightByEight,
  connectInkit,
  deliveredOf,
  eightByEightKey,
  eightByEightOf,
  inkitRunsOf,
  inkitToken,
  StreamFollower,
} from "../support/connections";
import { expectStream, type StreamSource, StreamTruth } from "../support/detection";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import { eightByEightTruth, inkitTruth, mergeTruth } from "../support/truth";
import { walkForward } from "../support/walk";
import {
  callAppJson,
  consumer,
  createHookEndpoint,
  drain,
  expectAllVerified,
  resetWebhookStore,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

const { smsKeywordRouter, appointmentReminders } = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const { supportTriage } = EIGHT_BY_EIGHT_DEFINITION_IDS.other;

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

/** One tenant: its API key, the simulator account its connections reach, its connections and their sources. */
interface TenantSetup {
  auth: string;
  account: Tenant;
  tag: string;
  inkit: Connection;
  eightByEight: Connection;
  definition: string;
  inkitSource: StreamSource;
  eightByEightSource: StreamSource;
}

/**
 * Tenant A (TEST_API_KEY) reaches the "demo" accounts, tenant B (TEST_API_KEY_2) the "other" ones, each under a
 * tagged credential of its own, so the simulators count each tenant's calls apart.
 */
async function twoTenants(w: WebhookEnv): Promise<[TenantSetup, TenantSetup]> {
  const setUp = async (auth: string, account: Tenant, tag: string, definition: string): Promise<TenantSetup> => {
    const inkit = await connectInkit(w, account, tag, auth);
    const eightByEight = await connectEightByEight(w, account, tag, auth);
    const accountId = EIGHT_BY_EIGHT_ACCOUNT_IDS[account];
    return {
      auth,
      account,
      tag,
      inkit,
      eightByEight,
      definition,
      inkitSource: inkitRunsOf(account, `inkit:runs@${inkit.id}`),
      eightByEightSource: eightByEightOf(account, definition, `8x8:${accountId}/${definition}@${eightByEight.id}`),
    };
  };
  return [
    await setUp(TEST_API_KEY, "demo", "tenant-a", smsKeywordRouter),
    await setUp(TEST_API_KEY_2, "other", "tenant-b", supportTriage),
  ];
}

/** The credentials a tenant's connections send. */
const credentialsOf = (t: TenantSetup) => [inkitToken(t.account, t.tag), eightByEightKey(t.account, t.tag)];

/** Upstream calls per exact credential, both simulators. */
async function callsByCredential(): Promise<Record<string, number>> {
  const [inkit, eightByEight] = await Promise.all([inkitSim.callsByCredential(), eightByEightSim.callsByCredential()]);
  return { ...inkit, ...eightByEight };
}

describe("two tenants watching the same source keys through their own connections", () => {
  it("each tenant's event stream and webhook equal its own account's truth over several ticks, and nothing of the other's", async () => {
    const w = webhookEnv();
    const tenants = await twoTenants(w);
    const hooks: string[] = [];
    for (const t of tenants) {
      const sources = [t.inkitSource.source, t.eightByEightSource.source];
      const sub = await callAppJson(w, "/v1/event-subscriptions", { method: "POST", json: { sources }, auth: t.auth });
      expect(sub.res.status, JSON.stringify(sub.body)).toBe(201);
      hooks.push((await createHookEndpoint(w, { sources }, t.auth)).hook);
    }
    const streams = tenants.map((t) => new StreamFollower(w, t.auth));

    await inkitSim.clearCounters();
    await eightByEightSim.clearCounters();
    await runCron(w); // baselines
    for (const s of streams) expect(await s.follow()).toEqual([]);
    // Each connection's sources were read with its own credential only, never the deployment's or the other tenant's.
    const baselineCalls = await callsByCredential();
    expect(Object.keys(baselineCalls).sort()).toEqual(tenants.flatMap(credentialsOf).sort());

    const truths = tenants.map((t) => ({
      inkit: new StreamTruth(t.inkitSource),
      eightByEight: new StreamTruth(t.eightByEightSource),
    }));
    const [a, b] = truths as [(typeof truths)[0], (typeof truths)[0]];
    // Several ticks of inserts and status changes in both tenants' accounts.
    const aRuns = await a.inkit.insert(4, "In Progress");
    const aInstances = await a.eightByEight.insert(3, "Runnable");
    const bRuns = await b.inkit.insert(3, "Pending");
    const bInstances = await b.eightByEight.insert(2, "Runnable");
    await runCron(w);
    await a.inkit.setStatus(aRuns.slice(0, 2), "Completed");
    await a.inkit.insert(2, "Pending");
    await a.eightByEight.setStatus(aInstances.slice(0, 1), "Complete");
    await b.inkit.setStatus(bRuns.slice(0, 1), "Failed");
    await b.eightByEight.insert(1, "Suspended");
    await b.eightByEight.setStatus(bInstances.slice(0, 1), "Terminated");
    await runCron(w);
    await a.inkit.setStatus(aRuns.slice(2), "Failed");
    await a.eightByEight.setStatus(aInstances.slice(1), "Terminated");
    await b.inkit.setStatus(bRuns.slice(1), "Completed");
    await b.inkit.insert(5, "In Progress", true);
    await b.eightByEight.setStatus(bInstances.slice(1), "Complete");
    await runCron(w);
    await runCron(w); // a quiet tick repeats nothing

    for (const [i, t] of tenants.entries()) {
      const stream = streams[i] as StreamFollower;
      const truth = truths[i] as (typeof truths)[0];
      const other = truths[1 - i] as (typeof truths)[0];
      await stream.follow();
      expectStream(asLogged(stream.of(t.inkitSource.source)), truth.inkit, t.inkitSource);
      expectStream(asLogged(stream.of(t.eightByEightSource.source)), truth.eightByEight, t.eightByEightSource);
      // Nothing else: no other source, no item of the other tenant's accounts.
      expect(new Set(stream.events.map((e) => e.source))).toEqual(
        new Set([t.inkitSource.source, t.eightByEightSource.source]),
      );
      const theirs = new Set([...other.inkit.created.keys(), ...other.eightByEight.created.keys()]);
      expect(stream.events.filter((e) => theirs.has(e.data.object.id))).toEqual([]);
    }

    // The same by webhook: each tenant's endpoint received exactly its stream's events, verified.
    await drain(w);
    for (const [i, t] of tenants.entries()) {
      const hook = hooks[i] as string;
      const stream = streams[i] as StreamFollower;
      const truth = truths[i] as (typeof truths)[0];
      const inkit = await deliveredOf(hook, "inkit");
      const eightByEight = await deliveredOf(hook, "8x8");
      expectStream(inkit, truth.inkit, t.inkitSource);
      expectStream(eightByEight, truth.eightByEight, t.eightByEightSource);
      expect([...inkit, ...eightByEight].map((d) => d.id).sort()).toEqual(stream.events.map((e) => e.id).sort());
      expectAllVerified(await consumer.received(hook));
    }
  });
});

describe("walks through a connection", () => {
  it("walked to the end, each tenant's walk equals its own account's truth, read with its own credential", async () => {
    const w = webhookEnv();
    const [a, b] = await twoTenants(w);
    await inkitSim.insert({ kind: "run", count: 7, tenant: "other" });
    await inkitSim.clearCounters();
    await eightByEightSim.clearCounters();
    const noCache = { "Cache-Control": "no-cache" };
    // Side by side, so their reads interleave.
    const [walkA, walkB, walkA8, walkB8] = await Promise.all([
      walkForward(`/v1/inkit/runs?connection=${a.inkit.id}`, 100, { auth: a.auth, headers: noCache }),
      walkForward(`/v1/inkit/runs?connection=${b.inkit.id}`, 7, { auth: b.auth, headers: noCache }),
      walkForward(
        `/v1/8x8/accounts/${EIGHT_BY_EIGHT_ACCOUNT_IDS.demo}/definitions/${smsKeywordRouter}/runs?connection=${a.eightByEight.id}`,
        50,
        { auth: a.auth, headers: noCache },
      ),
      walkForward(
        `/v1/8x8/accounts/${EIGHT_BY_EIGHT_ACCOUNT_IDS.other}/definitions/${supportTriage}/runs?connection=${b.eightByEight.id}`,
        4,
        { auth: b.auth, headers: noCache },
      ),
    ]);
    const ids = (items: { id: string }[]) => items.map((i) => i.id);
    expect(walkA.ids).toEqual(ids(await inkitTruth("run")));
    expect(walkB.ids).toEqual(ids(await inkitTruth("run", { tenant: "other" })));
    expect(walkB.ids.length).toBe(47);
    expect(walkA8.ids).toEqual(ids(await eightByEightTruth(smsKeywordRouter, 1)));
    expect(walkB8.ids).toEqual(ids(await eightByEightTruth(supportTriage, 1)));
    expect(Object.keys(await callsByCredential()).sort()).toEqual([...credentialsOf(a), ...credentialsOf(b)].sort());
  });

  it("a mixed saved feed: connections beside the deployment's own source, each read with its credential", async () => {
    const w = webhookEnv();
    const [a, b] = await twoTenants(w);
    const deployment8x8 = `8x8:${EIGHT_BY_EIGHT_ACCOUNT_IDS.demo}/${smsKeywordRouter}`;
    const feeds = [
      {
        t: b,
        sources: [
          `inkit@${b.inkit.id}`,
          `8x8:${EIGHT_BY_EIGHT_ACCOUNT_IDS.other}/${supportTriage}@${b.eightByEight.id}`,
          deployment8x8,
        ],
        truth: async () =>
          mergeTruth([
            await inkitTruth("run", { tenant: "other" }),
            await eightByEightTruth(supportTriage, 1),
            await eightByEightTruth(smsKeywordRouter, 1),
          ]),
      },
      {
        t: a,
        sources: [
          `inkit@${a.inkit.id}`,
          `8x8:${EIGHT_BY_EIGHT_ACCOUNT_IDS.demo}/${appointmentReminders}@${a.eightByEight.id}`,
          deployment8x8,
        ],
        truth: async () =>
          mergeTruth([
            await inkitTruth("run"),
            await eightByEightTruth(appointmentReminders, 3),
            await eightByEightTruth(smsKeywordRouter, 1),
          ]),
      },
    ];
    for (const { t, sources, truth } of feeds) {
      const saved = await callAppJson<{ id: string; sources: string[] }>(w, "/v1/feeds", {
        method: "POST",
        json: { sources },
        auth: t.auth,
      });
      expect(saved.res.status, JSON.stringify(saved.body)).toBe(201);
      expect(saved.body.sources).toEqual(sources);
      // The other tenant cannot walk it, nor save a feed naming this tenant's connections.
      const otherAuth = t === a ? b.auth : a.auth;
      expect((await callAppJson(w, `/v1/runs?feed=${saved.body.id}`, { auth: otherAuth })).res.status).toBe(404);
      expect(
        (await callAppJson(w, "/v1/feeds", { method: "POST", json: { sources }, auth: otherAuth })).res.status,
      ).toBe(404);

      await inkitSim.clearCounters();
      await eightByEightSim.clearCounters();
      const walk = await walkForward(`/v1/runs?feed=${saved.body.id}`, 200, {
        auth: t.auth,
        headers: { "Cache-Control": "no-cache" },
      });
      expect(walk.ids).toEqual((await truth()).map((i) => i.id));
      // Each source read with its own credential: the connections' and the deployment's 8x8 key, nothing else.
      expect(Object.keys(await callsByCredential()).sort()).toEqual(
        [...credentialsOf(t), EIGHT_BY_EIGHT_API_KEYS.demo].sort(),
      );
    }
  });
});
