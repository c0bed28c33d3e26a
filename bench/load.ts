// 3. End to end under load: autocannon on loopback against the worker under `wrangler dev` and, for comparison,
// straight at the simulator. Every scenario runs the same connections for the same bounded time, after a short
// warm-up that is not recorded. Ratios come from scenarios of this same run.
import autocannon from "autocannon";
import { admin, type SimStats, simStats } from "./lib/stack";

/** Connections of the throughput scenarios; the latency-overhead pair also runs with one (no queueing). */
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

export async function runLoad(t: Target, log: (line: string) => void): Promise<LoadResult[]> {
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
  results.push(await scenario(t, "a. /healthz", `${t.origin}/healthz`, {}, CONNECTIONS, log));
  results.push(await scenario(t, "a1. /healthz, 1 conn", `${t.origin}/healthz`, {}, 1, log));
  results.push(
    await scenario(t, "b. cached list page", page, auth, CONNECTIONS, log, async () => {
      // Fresh entry right before: warm-up plus run stay inside the list TTL (15 s), so every request is a hit.
      await fetch(page, { headers: { ...auth, "Cache-Control": "no-cache" } });
    }),
  );
  results.push(
    await scenario(t, "b1. cached list page, 1 conn", page, auth, 1, log, async () => {
      await fetch(page, { headers: { ...auth, "Cache-Control": "no-cache" } });
    }),
  );
  await admin(t.inkitUrl, "POST", "/faults", { route: PAGE_LISTING, latency_ms: UPSTREAM_LATENCY_MS });
  try {
    const uncached = { ...auth, "Cache-Control": "no-cache" };
    const direct = `${t.inkitUrl}${upstreamPath}`;
    const token = { "X-Inkit-API-Token": "sim_inkit_demo_token" };
    const delay = `+${UPSTREAM_LATENCY_MS} ms`;
    results.push(await scenario(t, `c. uncached page (${delay})`, page, uncached, CONNECTIONS, log));
    results.push(await scenario(t, `d. direct simulator (${delay})`, direct, token, CONNECTIONS, log));
    results.push(await scenario(t, `c1. uncached page (${delay}), 1 conn`, page, uncached, 1, log));
    results.push(await scenario(t, `d1. direct simulator (${delay}), 1 conn`, direct, token, 1, log));
  } finally {
    await admin(t.inkitUrl, "DELETE", "/faults");
  }
  return results;
}
