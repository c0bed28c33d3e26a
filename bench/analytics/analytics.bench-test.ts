// Part 7: what writing Analytics Engine data points costs a response. The same page is served by the real app
// (createApp) against the simulators over loopback, alternately with the ANALYTICS binding (miniflare's, from
// wrangler.toml) and without it, in interleaved rounds so the machine's drifting load hits both alike; each request is
// timed from fetch to its body's last byte. The ratio of the medians is the cost. A recording dataset counts the
// points one request writes. Local workerd's performance.now() advances during CPU work (checked by part 2).
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject, it } from "vitest";
import { createApp } from "../../src/app";
import { MAX_POINTS, Telemetry } from "../../src/observability/telemetry";
import type { AnalyticsFigures, AnalyticsScenario } from "./figures";

const KEY = "trib_bench_key_0123456789abcdef";
const ROUNDS = 50;
const BATCH = 15;
const WARMUP = 20;
const FLUSHES = 40;
const DEFINITION = "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14";

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

it("analytics: the cost of writing data points", async () => {
  const app = createApp();
  const base = {
    ...env,
    INKIT_BASE_URL: inject("benchInkitUrl"),
    EIGHTBYEIGHT_BASE_URL: inject("benchEightByEightUrl"),
    API_KEYS: KEY,
    CURSOR_SECRET: "k1:bench-cursor-secret-0123456789abcdef",
    INKIT_API_TOKEN: "sim_inkit_demo_token",
    EIGHTBYEIGHT_API_KEY: "sim_8x8_demo_key",
    LOG_LEVEL: "off",
    // wrangler.toml's limiter allows 100 a minute; both arms call this one instead, alike.
    RATE_LIMITER: { limit: async () => ({ success: true }) },
  } as unknown as Env;
  if (!(base as Partial<Env>).ANALYTICS) throw new Error("wrangler.toml declares no ANALYTICS binding");
  const { ANALYTICS: _, ...rest } = base;
  const without = rest as unknown as Env;

  const serve = async (bindings: Env, path: string, headers: Record<string, string>) => {
    const t0 = performance.now();
    const res = await app.fetch(
      new Request(`https://tributary.bench${path}`, { headers: { Authorization: `Bearer ${KEY}`, ...headers } }),
      bindings,
      createExecutionContext(),
    );
    await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    return { ms, timing: res.headers.get("Server-Timing") ?? "" };
  };

  const pages: { name: string; path: string; headers: Record<string, string> }[] = [
    {
      name: "Inkit page from the upstream (no-store)",
      path: "/v1/inkit/runs?limit=50",
      headers: { "Cache-Control": "no-store" },
    },
    {
      name: "feed page, Inkit + 8x8 (no-store)",
      path: `/v1/runs?limit=50&source=inkit&source=8x8:acme-ops/${DEFINITION}`,
      headers: { "Cache-Control": "no-store" },
    },
    { name: "Inkit page from the cache (hit)", path: "/v1/inkit/runs?limit=50", headers: {} },
  ];

  // workerd rounds performance.now() to whole milliseconds: each sample times a batch of BATCH requests of one arm.
  const batch = async (bindings: Env, page: (typeof pages)[number]) => {
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i++) await serve(bindings, page.path, page.headers);
    return (performance.now() - t0) / BATCH;
  };

  const scenarios: AnalyticsScenario[] = [];
  for (const page of pages) {
    for (let i = 0; i < WARMUP; i++) {
      await serve(base, page.path, page.headers);
      await serve(without, page.path, page.headers);
    }
    // Points one request writes, counted by a recording dataset (after the warm-up: a cached page is then a hit).
    const recorded: unknown[] = [];
    const recording = { ...base, ANALYTICS: { writeDataPoint: (p: unknown) => recorded.push(p) } } as unknown as Env;
    const counted = await serve(recording, page.path, page.headers);
    const calls = [...counted.timing.matchAll(/desc="(\d+) calls?"/g)].reduce((n, m) => n + Number(m[1]), 0);
    const withMs: number[] = [];
    const withoutMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which arm goes first, so neither always meets a warmer connection or cache.
      if (i % 2 === 0) {
        withMs.push(await batch(base, page));
        withoutMs.push(await batch(without, page));
      } else {
        withoutMs.push(await batch(without, page));
        withMs.push(await batch(base, page));
      }
    }
    const w = { medianMs: round(percentile(withMs, 50)), p90Ms: round(percentile(withMs, 90)) };
    const wo = { medianMs: round(percentile(withoutMs, 50)), p90Ms: round(percentile(withoutMs, 90)) };
    scenarios.push({
      name: page.name,
      path: page.path,
      pointsPerRequest: recorded.length,
      upstreamCallsPerRequest: calls,
      rounds: ROUNDS,
      requestsPerSample: BATCH,
      withBinding: w,
      withoutBinding: wo,
      ratioMedian: round(w.medianMs / wo.medianMs, 2),
      ratioP90: round(w.p90Ms / wo.p90Ms, 2),
    });
  }

  // The per-invocation limit's worth of points through the binding, FLUSHES invocations timed together.
  const dataset = (base as Env).ANALYTICS;
  const perPoint: number[] = [];
  for (let b = 0; b < 10; b++) {
    const invocations = Array.from({ length: FLUSHES }, () => {
      const t = new Telemetry();
      for (let i = 1; i < MAX_POINTS; i++) {
        t.record({
          provider: "inkit",
          address: "api.inkit.com",
          status: 200,
          errorType: "",
          durationMs: 12,
          attempt: 1,
        });
      }
      return t;
    });
    const t0 = performance.now();
    for (const t of invocations)
      t.flush(dataset, () => ({ blobs: ["request"], doubles: [1], indexes: ["/v1/inkit/runs"] }));
    perPoint.push((performance.now() - t0) / (FLUSHES * MAX_POINTS));
  }

  const figures: AnalyticsFigures = {
    method: `Inside workerd: the real app (createApp) against the simulators over loopback; each page ${ROUNDS} interleaved rounds (after ${WARMUP} warm-up requests per arm), each round one batch of ${BATCH} requests per arm (workerd rounds performance.now() to 1 ms), with the ANALYTICS binding (miniflare's, declared in wrangler.toml: it accepts points and keeps none, so this is the worker's own cost of building and handing them over) and without it; each request timed from fetch to the body's last byte. Points per request counted with a recording dataset. Per point: ${FLUSHES} invocations of ${MAX_POINTS} points each flushed through the binding, timed together, 10 samples, median.`,
    scenarios,
    perPointUs: round(percentile(perPoint, 50) * 1000, 2),
  };
  const res = await fetch(inject("benchResultsUrl"), { method: "POST", body: JSON.stringify(figures) });
  if (!res.ok) throw new Error(`results collector: ${res.status}`);
});
