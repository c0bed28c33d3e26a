// 3. End to end under load: autocannon on loopback against the worker under `wrangler dev` and, for comparison,
// straight at the simulator. Every scenario runs the same connections for the same bounded time, after a short
// warm-up that is not recorded. Ratios come from scenarios of this same run.
//
// Latency at one connection is measured by a loop of our own instead (autocannon reports whole milliseconds, too
// coarse for a +0.5 ms target): one request at a time, each scenario on its own keep-alive connection, the
// scenarios interleaved so that each follows each other equally often and whatever else the machine does hits all
// of them alike.

import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import autocannon from "autocannon";
import { admin, ROOT, type SimStats, simStats } from "./lib/stack";
import { quantile } from "./lib/stats";

type Result = Awaited<ReturnType<typeof autocannon>>;

/** Connections of the throughput scenarios; latency at one connection is the sequential loop's (runSequential). */
export const CONNECTIONS = 10;
export const WARMUP_S = 2;
export const DURATION_S = 8;
export const UPSTREAM_LATENCY_MS = 20;
/** The list page of scenarios b and c, and the upstream listing it reads. */
export const PAGE_PATH = "/v1/inkit/runs?limit=50";
const PAGE_LISTING = "/v1/invoke";

export interface LoadResult {
  scenario: string;
  url: string;
  connections: number;
  durationS: number;
  requests: number;
  rps: number;
  latencyMeanMs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Upstream calls the simulators served during the recorded run. */
  upstreamCalls: number;
}

interface Target {
  origin: string;
  apiKey: string;
  inkitUrl: string;
  eightByEightUrl: string;
}

async function fire(url: string, headers: Record<string, string>, connections: number, duration: number) {
  return autocannon({ url, headers, connections, duration, timeout: 10, pipelining: 1 });
}

const callsOf = (stats: SimStats) => Object.values(stats.calls).reduce((a, b) => a + b, 0);

async function scenario(
  t: Target,
  name: string,
  url: string,
  headers: Record<string, string>,
  connections: number,
  log: (line: string) => void,
  prepare?: () => Promise<void>,
): Promise<LoadResult> {
  await prepare?.();
  await fire(url, headers, connections, WARMUP_S);
  await Promise.all([simStats(t.inkitUrl, true), simStats(t.eightByEightUrl, true)]);
  const r = await fire(url, headers, connections, DURATION_S);
  const [inkit, eightByEight] = await Promise.all([simStats(t.inkitUrl, true), simStats(t.eightByEightUrl, true)]);
  const result: LoadResult = {
    scenario: name,
    url: url.replace(/^https?:\/\/[^/]+/, ""),
    connections,
    durationS: r.duration,
    requests: r["2xx"],
    rps: Math.round((r["2xx"] / r.duration) * 10) / 10,
    latencyMeanMs: r.latency.mean,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMaxMs: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    upstreamCalls: callsOf(inkit) + callsOf(eightByEight),
  };
  log(
    `  ${name.padEnd(40)} ${String(result.rps).padStart(8)} req/s  p50 ${result.latencyP50Ms} ms  p99 ${result.latencyP99Ms} ms  non-2xx ${result.non2xx}  errors ${result.errors}`,
  );
  return result;
}

/** Rounds of the alternating throughput pair, and each round's recorded seconds (after one warm-up round each). */
export const THROUGHPUT_ROUNDS = ["a", "b", "b", "a", "a", "b", "b", "a"] as const;
export const ROUND_S = 2;

interface Side {
  name: string;
  url: string;
  headers: Record<string, string>;
  prepare?: () => Promise<void>;
}

/**
 * Two throughput scenarios in alternating rounds at CONNECTIONS, each recorded for DURATION_S in all. A side's
 * figure sums its rounds: requests over seconds; p50 is the median of its rounds', p99 and max the highest.
 */
async function alternating(t: Target, a: Side, b: Side, log: (line: string) => void): Promise<LoadResult[]> {
  const sides = { a, b };
  for (const side of [a, b]) {
    await side.prepare?.();
    await fire(side.url, side.headers, CONNECTIONS, WARMUP_S);
  }
  const rounds: Record<"a" | "b", { r: Result; calls: number }[]> = { a: [], b: [] };
  for (const which of THROUGHPUT_ROUNDS) {
    const side = sides[which];
    await side.prepare?.();
    await Promise.all([simStats(t.inkitUrl, true), simStats(t.eightByEightUrl, true)]);
    const r = await fire(side.url, side.headers, CONNECTIONS, ROUND_S);
    const [inkit, eightByEight] = await Promise.all([simStats(t.inkitUrl, true), simStats(t.eightByEightUrl, true)]);
    rounds[which].push({ r, calls: callsOf(inkit) + callsOf(eightByEight) });
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;
  return (["a", "b"] as const).map((which) => {
    const side = sides[which];
    const list = rounds[which];
    const sum = (f: (r: Result) => number) => list.reduce((acc, { r }) => acc + f(r), 0);
    const duration = sum((r) => r.duration);
    const ok = sum((r) => r["2xx"]);
    const result: LoadResult = {
      scenario: side.name,
      url: side.url.replace(/^https?:\/\/[^/]+/, ""),
      connections: CONNECTIONS,
      durationS: Math.round(duration * 100) / 100,
      requests: ok,
      rps: Math.round((ok / duration) * 10) / 10,
      latencyMeanMs: Math.round((sum((r) => r.latency.mean * r["2xx"]) / Math.max(1, ok)) * 100) / 100,
      latencyP50Ms: median(list.map(({ r }) => r.latency.p50)),
      latencyP99Ms: Math.max(...list.map(({ r }) => r.latency.p99)),
      latencyMaxMs: Math.max(...list.map(({ r }) => r.latency.max)),
      non2xx: sum((r) => r.non2xx),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      upstreamCalls: list.reduce((acc, { calls }) => acc + calls, 0),
    };
    const perRound = list.map(({ r }) => Math.round(r["2xx"] / r.duration)).join("/");
    log(
      `  ${side.name.padEnd(40)} ${String(result.rps).padStart(8)} req/s  p50 ${result.latencyP50Ms} ms  p99 ${result.latencyP99Ms} ms  non-2xx ${result.non2xx}  errors ${result.errors}  (rounds: ${perRound})`,
    );
    return result;
  });
}

/** Bounds of the sequential loop: cycles stop at whichever comes first (see runSequential). */
export const SEQUENTIAL_WARMUP_CYCLES = 3;
export const SEQUENTIAL_DURATION_S = 30;
export const SEQUENTIAL_MAX_CYCLES = 400;

export interface SequentialResult {
  scenario: string;
  url: string;
  samples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  /** Requests that did not answer 200 (counted, not timed). */
  non200: number;
  /** Requests sent on a new connection rather than the scenario's kept-alive one. */
  newConnections: number;
}

export interface SequentialRun {
  method: string;
  /** Recorded cycles; in each, every scenario ran `requestsPerCycle / scenarios.length` times. */
  cycles: number;
  requestsPerCycle: number;
  warmupCycles: number;
  durationS: number;
  scenarios: SequentialResult[];
  /**
   * Per cycle, the cached page minus /healthz, and the uncached page minus (direct + /healthz), from each
   * scenario's mean in the cycle: the median of those paired differences, ms. Each difference is taken within one
   * cycle (under a second), so slow spells of the machine cancel.
   */
  pairedMedianMs: { cachedOverHealthz: number; uncachedOverDirectAndHealthz: number };
}

export interface LoadRun {
  scenarios: LoadResult[];
  sequential: SequentialRun | null;
}

/** The second API key of .dev.vars.example: the uncached scenario's caller (see runSequential). */
function secondApiKey(): string {
  const key = /^API_KEYS="?[^,"\n]+,([^,"\n]+)/m.exec(readFileSync(join(ROOT, ".dev.vars.example"), "utf8"))?.[1];
  if (!key) throw new Error("no second key in API_KEYS of .dev.vars.example");
  return key;
}

interface Timed {
  ms: number;
  status: number;
  reused: boolean;
}

/** One GET on `agent`, timed from the call to the last byte of the body (process.hrtime, ns). */
function timedGet(agent: Agent, url: URL, headers: Record<string, string>): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(url, { agent, headers, method: "GET" }, (res) => {
      res.on("data", () => {});
      res.once("error", reject);
      res.once("end", () =>
        resolve({
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          status: res.statusCode ?? 0,
          reused: req.reusedSocket,
        }),
      );
    });
    req.once("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url.pathname}: no answer within 10 s`)));
    req.end();
  });
}

const ms2 = (v: number) => Math.round(v * 100) / 100;

interface SequentialScenario {
  name: string;
  url: string;
  headers: Record<string, string>;
}

/**
 * The order of one cycle of n scenarios: every ordered pair of different scenarios follows each other exactly
 * once, the step from the cycle's end to the next cycle's start included (an Eulerian circuit of the complete
 * directed graph, by Hierholzer's algorithm). A request right after one that waited 20 ms on the upstream may meet
 * a colder CPU than one right after a quick request; with this order every scenario has the same predecessors.
 * A plain rotation (a, b, c, d; b, c, d, a; …) does not: b always follows a, and a always follows d.
 */
export function balancedOrder(n: number): number[] {
  if (n < 2) return n === 1 ? [0] : [];
  const out = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => n - 1 - j).filter((j) => j !== i),
  );
  const stack = [0];
  const circuit: number[] = [];
  while (stack.length > 0) {
    const v = stack[stack.length - 1] as number;
    const next = out[v]?.pop();
    if (next === undefined) circuit.push(stack.pop() as number);
    else stack.push(next);
  }
  // The circuit ends where it began: the next cycle's first request is that end.
  return circuit.reverse().slice(0, -1);
}

/**
 * Latency at one connection, 0.01 ms resolution: one request at a time, each scenario on its own kept-alive
 * connection, interleaved in cycles of balancedOrder, so each scenario follows each other equally often and a slow
 * spell of the machine hits all of them alike. Bounded by SEQUENTIAL_DURATION_S and SEQUENTIAL_MAX_CYCLES after
 * SEQUENTIAL_WARMUP_CYCLES.
 */
async function runSequential(scenarios: SequentialScenario[], log: (line: string) => void): Promise<SequentialRun> {
  const order = balancedOrder(scenarios.length);
  const agents = scenarios.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const urls = scenarios.map((s) => new URL(s.url));
  const samples = scenarios.map(() => [] as number[]);
  const non200 = scenarios.map(() => 0);
  const fresh = scenarios.map(() => 0);
  /** Per recorded cycle, each scenario's mean. */
  const perCycle: number[][] = [];
  const started = performance.now();
  let cycles = 0;
  try {
    for (let r = 0; ; r++) {
      const recorded = r >= SEQUENTIAL_WARMUP_CYCLES;
      if (recorded && (cycles >= SEQUENTIAL_MAX_CYCLES || performance.now() - started > SEQUENTIAL_DURATION_S * 1000))
        break;
      const times = scenarios.map(() => [] as number[]);
      for (const i of order) {
        const res = await timedGet(agents[i] as Agent, urls[i] as URL, (scenarios[i] as SequentialScenario).headers);
        if (!recorded) continue;
        if (!res.reused) fresh[i] = (fresh[i] ?? 0) + 1;
        if (res.status !== 200) non200[i] = (non200[i] ?? 0) + 1;
        else times[i]?.push(res.ms);
      }
      if (!recorded) continue;
      cycles++;
      for (const [i, ms] of times.entries()) samples[i]?.push(...ms);
      perCycle.push(times.map((ms) => (ms.length > 0 ? ms.reduce((a, b) => a + b, 0) / ms.length : Number.NaN)));
    }
  } finally {
    for (const agent of agents) agent.destroy();
  }
  const durationS = Math.round((performance.now() - started) / 100) / 10;
  const results = scenarios.map((s, i): SequentialResult => {
    const sorted = [...(samples[i] ?? [])].sort((a, b) => a - b);
    return {
      scenario: s.name,
      url: s.url.replace(/^https?:\/\/[^/]+/, ""),
      samples: sorted.length,
      p50Ms: ms2(quantile(sorted, 0.5)),
      p90Ms: ms2(quantile(sorted, 0.9)),
      p99Ms: ms2(quantile(sorted, 0.99)),
      meanMs: ms2(sorted.reduce((a, b) => a + b, 0) / sorted.length),
      minMs: ms2(sorted[0] ?? Number.NaN),
      non200: non200[i] ?? 0,
      newConnections: fresh[i] ?? 0,
    };
  });
  const paired = (f: (t: number[]) => number) =>
    ms2(
      quantile(
        perCycle
          .map(f)
          .filter(Number.isFinite)
          .sort((a, b) => a - b),
        0.5,
      ),
    );
  const [h, b, c, d] = [0, 1, 2, 3];
  const run: SequentialRun = {
    method:
      "node:http, one keep-alive connection per scenario, one request at a time, scenarios interleaved in cycles where each follows each other once (balancedOrder), process.hrtime from request to the body's last byte",
    cycles,
    requestsPerCycle: order.length,
    warmupCycles: SEQUENTIAL_WARMUP_CYCLES,
    durationS,
    scenarios: results,
    pairedMedianMs: {
      cachedOverHealthz: paired((t) => (t[b] ?? Number.NaN) - (t[h] ?? Number.NaN)),
      uncachedOverDirectAndHealthz: paired((t) => (t[c] ?? Number.NaN) - (t[d] ?? Number.NaN) - (t[h] ?? Number.NaN)),
    },
  };
  for (const r of results) {
    log(
      `  ${r.scenario.padEnd(40)} ${String(r.samples).padStart(6)} samples  p50 ${r.p50Ms.toFixed(2)} ms  p90 ${r.p90Ms.toFixed(2)} ms  non-200 ${r.non200}  new connections ${r.newConnections}`,
    );
  }
  return run;
}

export async function runLoad(t: Target, log: (line: string) => void): Promise<LoadRun> {
  const auth = { Authorization: `Bearer ${t.apiKey}` };
  const page = `${t.origin}${PAGE_PATH}`;
  // Body parsing for item counts would slow the simulator down: off while under load.
  await Promise.all([t.inkitUrl, t.eightByEightUrl].map((u) => fetch(`${u}/__bench/count-items?on=0`)));
  await admin(t.inkitUrl, "DELETE", "/faults");

  // The upstream request the worker makes for the page, so the direct call asks exactly the same.
  await fetch(page, { headers: { ...auth, "Cache-Control": "no-cache" } });
  const upstreamPath = (await simStats(t.inkitUrl)).last[PAGE_LISTING];
  if (!upstreamPath) throw new Error(`the worker made no ${PAGE_LISTING} call for ${PAGE_PATH}`);

  const results: LoadResult[] = [];
  // The throughput pair runs in alternating rounds (ABBA ABBA), so drift in the machine's load hits both alike.
  // A fresh cache entry before each cached round keeps every request of the round a hit (list TTL 15 s).
  const refresh = async () => {
    await fetch(page, { headers: { ...auth, "Cache-Control": "no-cache" } });
  };
  results.push(
    ...(await alternating(
      t,
      { name: "a. /healthz", url: `${t.origin}/healthz`, headers: {} },
      { name: "b. cached list page", url: page, headers: auth, prepare: refresh },
      log,
    )),
  );
  await admin(t.inkitUrl, "POST", "/faults", { route: PAGE_LISTING, latency_ms: UPSTREAM_LATENCY_MS });
  let sequential: SequentialRun | null = null;
  try {
    const uncached = { ...auth, "Cache-Control": "no-cache" };
    const direct = `${t.inkitUrl}${upstreamPath}`;
    const token = { "X-Inkit-API-Token": "sim_inkit_demo_token" };
    const delay = `+${UPSTREAM_LATENCY_MS} ms`;
    results.push(await scenario(t, `c. uncached page (${delay})`, page, uncached, CONNECTIONS, log));
    results.push(await scenario(t, `d. direct simulator (${delay})`, direct, token, CONNECTIONS, log));
    log(`  one connection, sequential, interleaved (up to ${SEQUENTIAL_DURATION_S} s):`);
    // The uncached page is asked with the second API key: a `no-cache` request drops the ready page of its own
    // caller and URL, and interleaved with the same caller it would turn every cached request into a rebuild.
    // Auth checks every configured key whichever is presented, so the two callers cost the same.
    const second = { Authorization: `Bearer ${secondApiKey()}` };
    await fetch(page, { headers: { ...auth, "Cache-Control": "no-cache" } });
    sequential = await runSequential(
      [
        { name: "a1. /healthz", url: `${t.origin}/healthz`, headers: {} },
        { name: "b1. cached list page", url: page, headers: auth },
        { name: `c1. uncached page (${delay})`, url: page, headers: { ...second, "Cache-Control": "no-cache" } },
        { name: `d1. direct simulator (${delay})`, url: direct, headers: token },
      ],
      log,
    );
  } finally {
    await admin(t.inkitUrl, "DELETE", "/faults");
  }
  return { scenarios: results, sequential };
}
