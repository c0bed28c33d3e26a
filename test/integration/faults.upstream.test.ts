import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { resetCircuitBreakers } from "../../src/upstream/circuit-breaker";
import { resetBudgets } from "../support/budget";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import { eightByEightTruth, inkitTruth } from "../support/truth";
import type { PageBody } from "../support/walk";
import { request } from "../support/worker";

const def = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.orderNotifications;
const runs8x8 = `/v1/8x8/accounts/acme-ops/definitions/${def}/runs`;
const noCache = { "Cache-Control": "no-cache" };
const inkitCalls = async () => (await inkitSim.counters()).total;
const ebeCalls = async () => (await eightByEightSim.counters()).total;

/** A request that always reaches the upstream (no listing cache), with vars overridden. */
const get = (path: string, vars: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  request(path, { env: vars, headers: { ...noCache, ...headers } });

/** The delays of the timers set from now on in this isolate (the worker under test runs in it too). */
function timerDelays(): number[] {
  const delays: number[] = [];
  const real = globalThis.setTimeout;
  vi.spyOn(globalThis, "setTimeout").mockImplementation(((handler: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    return real(handler, ms);
  }) as typeof setTimeout);
  return delays;
}

/** How many requests each fault injected so far has applied to. */
const faultHits = async (sim: typeof inkitSim) => (await sim.faults()).faults.map((f) => f.hits);

beforeEach(async () => {
  await resetSimulators();
  resetCircuitBreakers();
  // A 429 pauses its upstream account for as long as its Retry-After says: each test starts with none paused.
  await resetBudgets();
});

afterEach(async () => {
  await Promise.all([inkitSim.clearFaults(), eightByEightSim.clearFaults()]);
  resetCircuitBreakers();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("latency", () => {
  it("within the per-attempt timeout: 200, one upstream call", async () => {
    await inkitSim.fault({ latency_ms: 300, times: 1 });
    const res = await get("/v1/inkit/runs?limit=5", { UPSTREAM_TIMEOUT_MS: "2000" });
    expect(res.status).toBe(200);
    expect(await faultHits(inkitSim)).toEqual([1]);
    expect(await inkitCalls()).toBe(1);
  });

  it("beyond the per-attempt timeout: 504 upstream-timeout after that timeout, not retried", async () => {
    await inkitSim.fault({ latency_ms: 5_000 });
    const res = await get("/v1/inkit/runs?limit=5", { UPSTREAM_TIMEOUT_MS: "300" });
    const problem = await expectProblem(res, 504, "upstream-timeout");
    expect(problem.upstream).toEqual({ provider: "inkit", status: null, code: null, error_id: null });
    expect(problem.detail).toBe("Inkit did not answer within 300 ms.");
    expect(await inkitCalls()).toBe(1);
  });

  it("the request's budget caps all attempts together: 504 within the budget", async () => {
    // Every answer is a slow 503: the first attempt fails after 300 ms, the retry runs out of budget.
    await eightByEightSim.fault({ latency_ms: 300, status: 503 });
    const res = await get(runs8x8, { UPSTREAM_BUDGET_MS: "500", UPSTREAM_TIMEOUT_MS: "8000" });
    const problem = await expectProblem(res, 504, "upstream-timeout");
    // The second attempt had only what was left of the 500 ms budget, not the 8,000 ms per-attempt timeout.
    const [, within] = /^8x8 did not answer within (\d+) ms\.$/.exec(String(problem.detail)) ?? [];
    expect(Number(within)).toBeLessThanOrEqual(500);
    expect(await ebeCalls()).toBe(2);
  });
});

describe("5xx bursts", () => {
  it("a burst shorter than the attempts is absorbed: 200, every retry counted upstream", async () => {
    await eightByEightSim.fault({ status: 503, times: 2 });
    const res = await get(`${runs8x8}?limit=5`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as PageBody).data).toHaveLength(5);
    expect(await ebeCalls()).toBe(3);
  });

  it("Inkit: one 500 then success is one retry", async () => {
    await inkitSim.fault({ status: 500, times: 1 });
    expect((await get("/v1/inkit/runs?limit=5")).status).toBe(200);
    expect(await inkitCalls()).toBe(2);
  });

  it("a persistent 5xx is a 502 upstream-error after UPSTREAM_MAX_ATTEMPTS calls", async () => {
    await inkitSim.fault({ status: 500 });
    const problem = await expectProblem(await get("/v1/inkit/runs?limit=5"), 502, "upstream-error");
    expect(problem.upstream).toMatchObject({ provider: "inkit", status: 500, code: "internal_error" });
    expect(await inkitCalls()).toBe(3);
  });

  it("UPSTREAM_MAX_ATTEMPTS=1 turns retries off", async () => {
    await inkitSim.fault({ status: 502, times: 1 });
    await expectProblem(await get("/v1/inkit/runs?limit=5", { UPSTREAM_MAX_ATTEMPTS: "1" }), 502, "upstream-error");
    expect(await inkitCalls()).toBe(1);
  });

  it("4xx answers are never retried", async () => {
    await expectProblem(await get("/v1/inkit/batches/rb_doesNotExist000000000"), 404, "not-found");
    expect(await inkitCalls()).toBe(1);
  });
});

describe("429 storms", () => {
  it("Retry-After within the budget is honoured: 200 after waiting it", async () => {
    await inkitSim.fault({ retry_after: 1, times: 1 });
    const delays = timerDelays();
    const res = await get("/v1/inkit/runs?limit=5");
    expect(res.status).toBe(200);
    // Between the two calls the worker waited the 1 s the upstream asked for.
    expect(delays).toContain(1_000);
    expect(await inkitCalls()).toBe(2);
  });

  it("Retry-After beyond the budget: 503 upstream-unavailable at once, passing Retry-After on", async () => {
    await eightByEightSim.fault({ retry_after: 120 });
    const delays = timerDelays();
    const res = await get(runs8x8, { UPSTREAM_TIMEOUT_MS: "7000" });
    expect(res.headers.get("Retry-After")).toBe("120");
    const problem = await expectProblem(res, 503, "upstream-unavailable");
    expect(problem.upstream).toMatchObject({ provider: "8x8", status: 429 });
    // At once: no wait of any length was started, only the one attempt's timeout.
    expect(delays).toEqual([7_000]);
    expect(await ebeCalls()).toBe(1);
  });

  it("a 429 storm without Retry-After: 503 upstream-unavailable with a Retry-After after every attempt", async () => {
    await inkitSim.fault({ status: 429 });
    const res = await get("/v1/inkit/runs?limit=5");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    await expectProblem(res, 503, "upstream-unavailable");
    expect(await inkitCalls()).toBe(3);
  });

  it("a 503 with a Retry-After beyond the budget is passed on the same way", async () => {
    await inkitSim.fault({ status: 503, retry_after: 90 });
    const res = await get("/v1/inkit/runs?limit=5");
    expect(res.headers.get("Retry-After")).toBe("90");
    await expectProblem(res, 503, "upstream-unavailable");
    expect(await inkitCalls()).toBe(1);
  });
});

describe("malformed bodies and hangs", () => {
  it("malformed JSON is a 502 upstream-invalid-response, not retried", async () => {
    await eightByEightSim.fault({ malformed: true });
    const problem = await expectProblem(await get(runs8x8), 502, "upstream-invalid-response");
    expect(problem.upstream).toMatchObject({ provider: "8x8", status: 200 });
    expect(await ebeCalls()).toBe(1);
  });

  it("a hang is a 504 upstream-timeout after the per-attempt timeout, not retried", async () => {
    await eightByEightSim.fault({ hang: true });
    const res = await get(runs8x8, { UPSTREAM_TIMEOUT_MS: "300" });
    const problem = await expectProblem(res, 504, "upstream-timeout");
    expect(problem.detail).toBe("8x8 did not answer within 300 ms.");
    expect(await faultHits(eightByEightSim)).toEqual([1]);
    expect(await ebeCalls()).toBe(1);
  });
});

describe("page-size caps", () => {
  it("an Inkit cap still gives full pages", async () => {
    await inkitSim.fault({ route: "/v1/invoke", page_size_cap: 7 });
    const { data } = (await (await get("/v1/inkit/runs?limit=20")).json()) as PageBody;
    const truth = (await inkitTruth("run")).slice(0, 20).map((r) => r.id);
    expect(data.map((r) => r.id)).toEqual(truth);
  });

  it("an 8x8 cap still gives full pages", async () => {
    await eightByEightSim.fault({ page_size_cap: 9 });
    const { data } = (await (await get(`${runs8x8}?limit=25`)).json()) as PageBody;
    const truth = await eightByEightTruth(def, 2);
    expect(data.map((r) => r.id)).toEqual(truth.slice(0, 25).map((r) => r.id));
  });
});

/** Walks a listing, injecting `fault` just before the page at `faultAt`, and returns every id in order. */
async function walkWithFault(path: string, limit: number, faultAt: number, fault: () => Promise<unknown>) {
  const ids: string[] = [];
  let url: string | null = `${path}?limit=${limit}`;
  for (let page = 0; url; page++) {
    if (page === faultAt) await fault();
    const res = await get(url);
    expect(res.status, url).toBe(200);
    const body = (await res.json()) as PageBody;
    ids.push(...body.data.map((r) => r.id));
    url = body.page.next_cursor ? `${path}?cursor=${encodeURIComponent(body.page.next_cursor)}` : null;
  }
  return ids;
}

describe("a retried page in a walk", () => {
  it("Inkit: a 503 mid-walk is retried and the walk equals the truth, no item lost or repeated", async () => {
    const truth = (await inkitTruth("document_batch")).map((b) => b.id);
    const ids = await walkWithFault("/v1/inkit/batches", 30, 3, () => inkitSim.fault({ status: 503, times: 1 }));
    expect(ids).toEqual(truth);
  });

  it("8x8: a 503 and a 429 mid-walk are retried and the walk equals the truth", async () => {
    const defId = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.smsKeywordRouter;
    const path = `/v1/8x8/accounts/acme-ops/definitions/${defId}/runs`;
    const truth = await eightByEightTruth(defId, 1);
    const ids = await walkWithFault(path, 45, 2, async () => {
      await eightByEightSim.fault({ status: 503, times: 1 });
      await eightByEightSim.fault({ retry_after: 0, times: 2 });
    });
    expect(ids).toEqual(truth.map((r) => r.id));
  });
});

describe("circuit breaker", () => {
  const breaker = { CIRCUIT_BREAKER_THRESHOLD: "2", CIRCUIT_BREAKER_COOLDOWN_MS: "60000" };
  /**
   * The breaker reads Date.now(): tests that need the cool-down to end freeze the clock and move it past the
   * cool-down, instead of waiting it out.
   */
  const freezeClock = () => vi.useFakeTimers({ toFake: ["Date"] });
  const passCooldown = () => vi.setSystemTime(Date.now() + 60_000);

  it("opens after consecutive failures, answers 503 at once without calling, then a probe closes it", async () => {
    freezeClock();
    await inkitSim.fault({ status: 500 });
    await expectProblem(await get("/v1/inkit/runs?limit=5", breaker), 502, "upstream-error");
    await expectProblem(await get("/v1/inkit/runs?limit=5", breaker), 502, "upstream-error");
    expect(await inkitCalls()).toBe(6);

    const open = await get("/v1/inkit/runs?limit=5", breaker);
    expect(open.headers.get("Retry-After")).toBe("60");
    const problem = await expectProblem(open, 503, "upstream-unavailable");
    expect(problem.upstream).toEqual({ provider: "inkit", status: null, code: null, error_id: null });
    expect(await inkitCalls()).toBe(6);

    // The other upstream has its own breaker.
    expect((await get(`${runs8x8}?limit=5`, breaker)).status).toBe(200);

    await inkitSim.clearFaults();
    vi.setSystemTime(Date.now() + 59_999);
    await expectProblem(await get("/v1/inkit/runs?limit=5", breaker), 503, "upstream-unavailable");
    expect(await inkitCalls()).toBe(6);
    vi.setSystemTime(Date.now() + 1);
    expect((await get("/v1/inkit/runs?limit=5", breaker)).status).toBe(200);
    expect(await inkitCalls()).toBe(7);
    expect((await get("/v1/inkit/runs?limit=5", breaker)).status).toBe(200);
  });

  it("a failed probe is one call, and re-opens the circuit for another cool-down", async () => {
    freezeClock();
    await eightByEightSim.fault({ status: 503 });
    await get(runs8x8, breaker);
    await get(runs8x8, breaker);
    await expectProblem(await get(runs8x8, breaker), 503, "upstream-unavailable");
    passCooldown();
    await eightByEightSim.clearCounters();
    await expectProblem(await get(runs8x8, breaker), 502, "upstream-error");
    expect(await ebeCalls()).toBe(1);
    await expectProblem(await get(runs8x8, breaker), 503, "upstream-unavailable");
    expect(await ebeCalls()).toBe(1);
  });

  it("a success resets the count: failures must be consecutive", async () => {
    await inkitSim.fault({ status: 500, times: 3 });
    await expectProblem(await get("/v1/inkit/runs?limit=5", breaker), 502, "upstream-error");
    expect((await get("/v1/inkit/runs?limit=5", breaker)).status).toBe(200);
    await inkitSim.fault({ status: 500, times: 3 });
    await expectProblem(await get("/v1/inkit/runs?limit=5", breaker), 502, "upstream-error");
    expect((await get("/v1/inkit/runs?limit=5", breaker)).status).toBe(200);
  });

  it("a caller's own credential hitting its 429 quota does not open the shared circuit", async () => {
    const one = { ...breaker, CIRCUIT_BREAKER_THRESHOLD: "1" };
    const own = { "X-Inkit-API-Token": "sim_inkit_demo_token" };
    await inkitSim.fault({ status: 429, times: 3 });
    await expectProblem(await get("/v1/inkit/runs?limit=5", one, own), 503, "upstream-unavailable");
    expect((await get("/v1/inkit/runs?limit=5", one)).status).toBe(200);
    // With the deployment's credential a 429 storm is everyone's problem: it opens the circuit.
    await inkitSim.fault({ status: 429, times: 3 });
    await expectProblem(await get("/v1/inkit/runs?limit=5", one), 503, "upstream-unavailable");
    await inkitSim.clearCounters();
    await expectProblem(await get("/v1/inkit/runs?limit=5", one), 503, "upstream-unavailable");
    expect(await inkitCalls()).toBe(0);
  });

  it("CIRCUIT_BREAKER_THRESHOLD=0 never opens it", async () => {
    await inkitSim.fault({ status: 500 });
    for (let i = 0; i < 4; i++) {
      await expectProblem(
        await get("/v1/inkit/runs?limit=5", { CIRCUIT_BREAKER_THRESHOLD: "0", UPSTREAM_MAX_ATTEMPTS: "1" }),
        502,
        "upstream-error",
      );
    }
    expect(await inkitCalls()).toBe(4);
  });
});
