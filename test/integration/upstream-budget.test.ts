// One request budget per upstream account (docs/upstream-budget.md), against simulators that limit the account's
// credential: detection of 100 watched 8x8 definitions wants more calls than the account allows, and is stretched
// instead of meeting a 429; listings made meanwhile are served; a listing the budget cannot serve answers a 503 naming
// the account; a 429 pauses the account for every caller; a warm isolate pays no round trip to the budget per request.
// Everything is counted (calls, 429s, events, round trips), never timed.
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_API_KEYS, EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import worker from "../../src";
import { configOf } from "../../src/config";
import type { CheckMessage } from "../../src/detection/tick";
import { Telemetry } from "../../src/observability/telemetry";
import { budgetAccess, drawToken, forgetLeases } from "../../src/upstream/budget";
import { bucketPolicy } from "../../src/upstream/budget-rules";
import { resetCircuitBreakers } from "../../src/upstream/circuit-breaker";
import { decodeBudget, recordingDataset } from "../support/analytics";
import { budgetRoundTrips, resetBudgets } from "../support/budget";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import {
  callApp,
  consumeCheck,
  createHookEndpoint,
  resetWebhookStore,
  rows,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

const SOURCES = 100;
const KEY = EIGHT_BY_EIGHT_API_KEYS.demo;
const { orderNotifications } = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const listing = (definition = orderNotifications) => `/v1/8x8/accounts/acme-ops/definitions/${definition}/runs?limit=5`;
const NO_CACHE = { "Cache-Control": "no-cache" };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The cron's scheduled handler alone: one check per watched source is queued, none is run. */
async function tickOnly(w: WebhookEnv): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" }), w.env, ctx);
  await waitOnExecutionContext(ctx);
}

/**
 * Runs the detection queue as Queues would: each message once its delay has passed (a deferred check asks for one),
 * in an invocation of its own, until none is left. `between` runs after every `every` checks. Returns the checks run
 * and how many messages came back with a delay (checks the budget put off).
 */
async function driveDetection(w: WebhookEnv, between?: { every: number; run: () => Promise<void> }) {
  const due: { body: CheckMessage; at: number }[] = [];
  let checks = 0;
  let deferred = 0;
  for (;;) {
    for (const m of w.detection.take()) {
      due.push({ body: m.body, at: Date.now() + m.delaySeconds * 1000 });
      if (m.delaySeconds > 0) deferred += 1;
    }
    if (due.length === 0) return { checks, deferred };
    due.sort((a, b) => a.at - b.at);
    const next = due.shift() as { body: CheckMessage; at: number };
    if (next.at > Date.now()) await sleep(next.at - Date.now());
    if (++checks > 2_000) throw new Error("detection never caught up");
    await consumeCheck(w, next.body);
    if (between && checks % between.every === 0) await between.run();
  }
}

describe(`${SOURCES} watched 8x8 definitions on one account, limited below what detection wants`, () => {
  // The simulator lets the account make 150 calls in any 2-second window. The budget: 40 calls a second, a bucket of
  // one second's worth, batches of 5. In any window the account can spend at most the bucket, the rate over the
  // window, and the tokens isolates hold (a batch and a half per lease, a listing's and detection's): 40 + 80 + 15.
  const LIMIT = { calls: 150, per_seconds: 2 };
  const budget = {
    UPSTREAM_ACCOUNT_CALLS_PER_MINUTE: "2400",
    UPSTREAM_ACCOUNT_BURST_SECONDS: "1",
    UPSTREAM_ACCOUNT_BATCH: "5",
  };
  const w = webhookEnv(budget);
  let definitions: string[] = [];
  let listings: number[] = [];

  /** A listing of the same account, read upstream (no cache): it comes first, and must be served. */
  const listWhileLoaded = async () => {
    const res = await callApp(w, listing(), { headers: NO_CACHE });
    listings.push(res.status);
  };

  beforeAll(async () => {
    await resetWebhookStore();
    await resetSimulators();
    await resetBudgets();
    const existing = (await eightByEightSim.getDefinitions()).definitions.map((d) => d.id);
    const { definitions: added } = await eightByEightSim.addDefinitions({ count: SOURCES - existing.length });
    definitions = [...existing, ...added.map((d) => d.id)];
    const sources = definitions.map((d) => `8x8:acme-ops/${d}`);
    expect(sources).toHaveLength(SOURCES);
    for (let i = 0; i < sources.length; i += 50) await createHookEndpoint(w, { sources: sources.slice(i, i + 50) });
    await eightByEightSim.rateLimit({ credential: KEY, ...LIMIT });
  });

  it("the budget's worst case in any window is under the simulator's limit", () => {
    const config = configOf(w.env);
    const policy = bucketPolicy(
      config.upstreamAccountCallsPerMinute,
      config.upstreamAccountBurstSeconds,
      config.upstreamAccountBatch,
    );
    const held = 2 * 1.5 * config.upstreamAccountBatch;
    expect(policy.capacity + policy.ratePerSecond * LIMIT.per_seconds + held).toBeLessThan(LIMIT.calls);
  });

  it("no upstream 429, every change arrives (later: checks are deferred), and listings meanwhile are served", async () => {
    await eightByEightSim.clearCounters();
    await tickOnly(w);
    const baselines = await driveDetection(w);
    expect(baselines.checks).toBeGreaterThanOrEqual(SOURCES);

    const changed = definitions.slice(-10);
    for (const definitionId of changed) await eightByEightSim.insert({ definitionId, count: 3, tie_head: false });
    listings = [];
    await tickOnly(w);
    const second = await driveDetection(w, { every: 10, run: listWhileLoaded });

    // The account never went past its limit: the simulator refused nothing.
    expect((await eightByEightSim.rateLimits()).refused).toBe(0);
    // Detection wanted more than the budget gave: some checks were put off, and ran later.
    expect(baselines.deferred + second.deferred).toBeGreaterThan(0);
    // Every change arrived, each once.
    const events = await rows<{ source: string; n: number }>(
      "SELECT source, COUNT(*) AS n FROM events WHERE type = 'run.created' GROUP BY source ORDER BY source",
    );
    expect(events).toEqual(
      changed.map((d) => ({ source: `8x8:acme-ops/${d}`, n: 3 })).sort((a, b) => (a.source < b.source ? -1 : 1)),
    );
    // Listings made during the load were served, within the budget (the simulator refused nothing).
    expect(listings.length).toBeGreaterThanOrEqual(10);
    expect(listings.every((status) => status === 200)).toBe(true);
  });

  it("without a budget under the limit, the same checks meet the simulator's 429s (the limit is real)", async () => {
    const unbudgeted = webhookEnv();
    await resetBudgets();
    await tickOnly(unbudgeted);
    // The tick's checks all at once, as a queue with many consumers would run them: however fast this machine is.
    const messages = unbudgeted.detection.take();
    expect(messages).toHaveLength(SOURCES);
    await Promise.all(messages.map((m) => consumeCheck(unbudgeted, m.body)));
    expect((await eightByEightSim.rateLimits()).refused).toBeGreaterThan(0);
    // Those 429s paused the account and opened 8x8's circuit: the tests after this one start without either.
    await resetBudgets();
    resetCircuitBreakers();
  });
});

describe("a listing its account's budget cannot serve", () => {
  // One call a minute, a bucket of one, and no wait: the second listing finds the budget spent.
  const tight = { UPSTREAM_ACCOUNT_CALLS_PER_MINUTE: "1", UPSTREAM_ACCOUNT_BATCH: "1", UPSTREAM_ACCOUNT_WAIT_MS: "0" };

  beforeAll(async () => {
    await resetSimulators();
    await resetBudgets();
  });

  it("answers 503 upstream-budget-exhausted with Retry-After, naming the account, and makes no upstream call", async () => {
    const ds = recordingDataset();
    const w = webhookEnv({ ...tight, ANALYTICS: ds.binding });
    expect((await callApp(w, listing(), { headers: NO_CACHE })).status).toBe(200);
    await eightByEightSim.clearCounters();
    const res = await callApp(w, listing(), { headers: NO_CACHE });
    const problem = await expectProblem(res, 503, "upstream-budget-exhausted");
    expect(problem.detail).toContain("this deployment's 8x8 account");
    expect(problem.detail).not.toContain(KEY);
    expect(problem.budget).toMatchObject({ account: "configured", paused: false });
    const retryAfter = Number(res.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await eightByEightSim.counters()).total).toBe(0);
    // Operators see it: the request's point names the account and the refusal.
    const request = ds.points.filter((p) => p.blobs?.[0] === "request").map(decodeBudget);
    expect(request.at(-1)).toMatchObject({ account: "configured", budgetRefused: 1 });
  });

  it("a caller's own credential is an account of its own, named as such", async () => {
    const w = webhookEnv(tight);
    const own = { ...NO_CACHE, "X-8x8-API-Key": `${KEY}~caller` };
    expect((await callApp(w, listing(), { headers: own })).status).toBe(200);
    const res = await callApp(w, listing(), { headers: own });
    const problem = await expectProblem(res, 503, "upstream-budget-exhausted");
    expect(problem.detail).toContain("the 8x8 account of the credential sent in your request");
    expect((problem.budget as { account: string }).account).toMatch(/^caller:[0-9a-f]{12}$/);
  });
});

describe("an upstream 429", () => {
  beforeAll(async () => {
    await resetWebhookStore();
    await resetSimulators();
    await resetBudgets();
  });

  it("pauses the account for every caller: another isolate's detection makes no call until it ends", async () => {
    const ds = recordingDataset();
    const w = webhookEnv({ UPSTREAM_ACCOUNT_WAIT_MS: "0", ANALYTICS: ds.binding });
    const source = `8x8:acme-ops/${orderNotifications}`;
    await createHookEndpoint(w, { sources: [source] });
    await eightByEightSim.fault({ retry_after: 30, times: 1 });
    // The listing that met it cannot wait 30 s: 503 upstream-unavailable, passing the upstream's Retry-After on.
    await expectProblem(await callApp(w, listing(), { headers: NO_CACHE }), 503, "upstream-unavailable");
    expect((await eightByEightSim.counters()).total).toBe(1);
    // The next listing of the account does not call: a 503 naming the paused account, with the time left.
    const res = await callApp(w, listing(), { headers: NO_CACHE });
    const problem = await expectProblem(res, 503, "upstream-budget-exhausted");
    expect(problem.budget).toMatchObject({ account: "configured", paused: true });
    expect(problem.detail).toContain("429");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(29);
    expect((await eightByEightSim.counters()).total).toBe(1);

    // Another isolate (no lease of its own) asks the account's object: refused while paused; the check is deferred.
    forgetLeases();
    await eightByEightSim.clearCounters();
    w.detection.take();
    await consumeCheck(w, { source });
    expect((await eightByEightSim.counters()).total).toBe(0);
    const resent = w.detection.take();
    expect(resent).toHaveLength(1);
    expect(resent[0]?.body).toEqual({ source, deferred: true });
    expect(resent[0]?.delaySeconds).toBeGreaterThanOrEqual(29);
    // While it waits, the cron's ticks send the source no other check: the schedule stretches instead of piling up.
    await tickOnly(w);
    expect(w.detection.take().map((m) => m.body.source)).not.toContain(source);
    // Operators see it: the 429 on the call's point, the pause's refusal on the listing's, the deferral on the check's.
    const points = ds.points.map((p) => ({ kind: p.blobs?.[0], errorType: p.blobs?.[6], ...decodeBudget(p) }));
    expect(points.filter((p) => p.kind === "upstream" && p.pauses === 1)).toHaveLength(1);
    expect(points.filter((p) => p.kind === "request" && p.budgetRefused === 1)).toHaveLength(1);
    const check = points.find((p) => p.kind === "check");
    expect(check).toMatchObject({ account: "configured", errorType: "deferred" });
    expect(check?.deferredMs).toBeGreaterThanOrEqual(29_000);
    // The other provider's account is not paused.
    await inkitSim.clearCounters();
    expect((await callApp(w, "/v1/inkit/runs?limit=5", { headers: NO_CACHE })).status).toBe(200);
  });
});

describe("a warm isolate", () => {
  beforeAll(async () => {
    await resetSimulators();
    await resetBudgets();
  });

  it("makes no round trip to its account's budget per request at steady state", async () => {
    const w = webhookEnv({ UPSTREAM_ACCOUNT_BATCH: "10" });
    const REQUESTS = 40;
    const before = await budgetRoundTrips();
    const waited: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const res = await callApp(w, "/v1/inkit/runs?limit=5", { headers: NO_CACHE });
      expect(res.status).toBe(200);
      const timing = res.headers.get("Server-Timing") ?? "";
      const trips = /budget;dur=[\d.]+;desc="inkit account configured: (\d+) round trips?"/.exec(timing);
      waited.push(trips ? Number(trips[1]) : 0);
    }
    // The first request of a cold isolate waits for one grant; every later one draws from tokens already granted,
    // topped up in the background (after the response).
    expect(waited[0]).toBe(1);
    expect(waited.slice(1).reduce((a, b) => a + b, 0)).toBe(0);
    const calls = (await inkitSim.counters()).total;
    expect(calls).toBe(REQUESTS);
    // The object answered one grant per half batch or so, not one per call.
    const after = await budgetRoundTrips();
    expect(after.grants - before.grants).toBeLessThanOrEqual(1 + Math.ceil(REQUESTS / 5));
    expect(after.granted - before.granted).toBeGreaterThanOrEqual(REQUESTS);
  });
});

describe("a cold isolate's concurrent calls", () => {
  beforeAll(async () => {
    await resetBudgets();
  });

  it("wait for one grant for them all after the first, not one per batch", async () => {
    const w = webhookEnv({ UPSTREAM_ACCOUNT_BATCH: "10" });
    const access = budgetAccess(w.env, configOf(w.env), "listing");
    const account = { provider: "inkit" as const, key: "inkit|test|concurrent", id: "test", label: "a test account" };
    const figures = new Telemetry().budgetOf("inkit", "test");
    const CALLS = 50;
    const before = await budgetRoundTrips();
    await Promise.all(Array.from({ length: CALLS }, () => drawToken(access, account, Date.now() + 10_000, figures)));
    expect(figures.draws).toBe(CALLS);
    // The first call asks for a batch and itself; the calls that grant left waiting ask the next one for all of them.
    // Asked only for itself each time, a woken call took six grants for 50 calls.
    const after = await budgetRoundTrips();
    expect(after.grants - before.grants).toBe(2);
  });
});

describe("a first page of many sources on one account", () => {
  beforeAll(async () => {
    await resetSimulators();
    await resetBudgets();
  });

  it("asks the account's budget for all its reads at once, not one batch at a time", async () => {
    const SOURCES = 16; // the most `source=` takes
    const w = webhookEnv({ UPSTREAM_ACCOUNT_BATCH: "4" });
    const existing = (await eightByEightSim.getDefinitions()).definitions.map((d) => d.id);
    const { definitions: added } = await eightByEightSim.addDefinitions({ count: SOURCES - existing.length });
    const query = [...existing, ...added.map((d) => d.id)].map(
      (d) => `source=${encodeURIComponent(`8x8:acme-ops/${d}`)}`,
    );
    forgetLeases();
    const before = await budgetRoundTrips();
    // A cold cache: each source is read once, a whole block (no lean opening, whose extensions are not expected).
    const res = await callApp(w, `/v1/runs?limit=7&${query.join("&")}`);
    expect(res.status).toBe(200);
    const calls = (await eightByEightSim.counters()).total;
    // Each source once, and a few calls that settle tie groups: those are not expected.
    expect(calls).toBeGreaterThanOrEqual(SOURCES);
    const unexpected = Math.ceil((calls - SOURCES) / 4);
    // One grant for the 16 calls, waited for once. Asked a batch of 4 at a time, they took four grants or more.
    const timing = res.headers.get("Server-Timing") ?? "";
    const trips = Number(/budget;dur=[\d.]+;desc="8x8 account configured: (\d+) round trips?"/.exec(timing)?.[1]);
    expect(trips).toBeLessThanOrEqual(1 + unexpected);
    const after = await budgetRoundTrips();
    // And at most one top-up in the background for the requests after it.
    expect(after.grants - before.grants).toBeLessThanOrEqual(2 + unexpected);
    expect(after.granted - before.granted).toBeGreaterThanOrEqual(SOURCES);
  });
});

describe("a deployment without the UPSTREAM_BUDGET binding", () => {
  it("answers 503 deployment-incomplete naming it, and calls no upstream unbudgeted", async () => {
    await resetSimulators();
    const w = webhookEnv({ UPSTREAM_BUDGET: undefined });
    const problem = await expectProblem(
      await callApp(w, listing(), { headers: NO_CACHE }),
      503,
      "deployment-incomplete",
    );
    expect(problem.detail).toContain("`UPSTREAM_BUDGET`");
    expect((await eightByEightSim.counters()).total).toBe(0);
  });

  it("the detection queue's consumer acknowledges no check and retries the batch later", async () => {
    const w = webhookEnv({ UPSTREAM_BUDGET: undefined });
    const batch = createMessageBatch<CheckMessage>("tributary-detection", [
      {
        id: "chk-unbudgeted",
        timestamp: new Date(),
        attempts: 1,
        body: { source: `8x8:acme-ops/${orderNotifications}` },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, w.env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.explicitAcks).toEqual([]);
    expect((await eightByEightSim.counters()).total).toBe(0);
  });
});

describe("an account's budget object that cannot be reached", () => {
  // The binding is there, but asking the object fails (an overloaded or unreachable object): a platform error injected
  // around the real namespace, which still names the objects.
  const failing = (namespace: Env["UPSTREAM_BUDGET"]) => ({
    idFromName: (name: string) => namespace.idFromName(name),
    get: () => ({ grant: () => Promise.reject(new Error("Durable Object is overloaded")) }),
  });

  beforeAll(async () => {
    await resetWebhookStore();
    await resetSimulators();
    await resetBudgets();
  });

  it("a listing answers 503 naming the account's budget, with Retry-After, and calls no upstream unbudgeted", async () => {
    const w = webhookEnv();
    const broken = webhookEnv({ UPSTREAM_BUDGET: failing(w.env.UPSTREAM_BUDGET) });
    const res = await callApp(broken, listing(), { headers: NO_CACHE });
    const problem = await expectProblem(res, 503, "service-unavailable");
    expect(problem.detail).toContain("this deployment's 8x8 account");
    expect(res.headers.get("Retry-After")).toBe("1");
    expect((await eightByEightSim.counters()).total).toBe(0);
  });

  it("a check is put off (sent again with a delay), not lost, and makes no call", async () => {
    const w = webhookEnv();
    const source = `8x8:acme-ops/${orderNotifications}`;
    await createHookEndpoint(w, { sources: [source] });
    forgetLeases();
    await eightByEightSim.clearCounters();
    const broken = webhookEnv({ UPSTREAM_BUDGET: failing(w.env.UPSTREAM_BUDGET) });
    await consumeCheck(broken, { source });
    expect((await eightByEightSim.counters()).total).toBe(0);
    const resent = broken.detection.take();
    expect(resent).toHaveLength(1);
    expect(resent[0]?.body).toEqual({ source, deferred: true });
    expect(resent[0]?.delaySeconds).toBeGreaterThanOrEqual(5);
    await tickOnly(w);
    expect(w.detection.take().map((m) => m.body.source)).not.toContain(source);
    // Once the put-off check has run, the ticks send the source checks again.
    await consumeCheck(w, resent[0]?.body as CheckMessage);
    expect((await eightByEightSim.counters()).total).toBeGreaterThan(0);
    await tickOnly(w);
    expect(w.detection.take().map((m) => m.body.source)).toContain(source);
  });
});
