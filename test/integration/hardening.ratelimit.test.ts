import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { windowResetSeconds } from "../../src/http/rate-limit";
import { sleep } from "../support/hardening";
import { expectProblem } from "../support/problem";
import { callJson, request } from "../support/worker";

// The tight limiter of the test runtime: 5 requests per 60 s window (see TEST_RATE_LIMITS).
const tight = (env as unknown as Record<string, unknown>).TEST_TIGHT_RATE_LIMITER;

/** A key of its own per test, so no test shares a counter with another. */
const freshKey = () => `trib_rl_${crypto.randomUUID().replaceAll("-", "")}`;

/** Vars that make `keys` valid and put the tight limiter in place, announcing its policy. */
const limited = (...keys: string[]) => ({
  API_KEYS: keys.join(","),
  RATE_LIMITER: tight,
  RATE_LIMIT_REQUESTS: "5",
  RATE_LIMIT_PERIOD_SECONDS: "60",
});

/** Windows are fixed and aligned to the clock: start a burst only with a few seconds of the window left. */
async function awayFromWindowEdge() {
  const left = windowResetSeconds(60, Date.now());
  if (left < 4) await sleep(left * 1000 + 100);
}

const path = "/v1/problems-that-do-not-exist";

describe("rate limit per API key", () => {
  it("allows the policy's requests, then answers 429 rate-limited with Retry-After and RateLimit headers", async () => {
    await awayFromWindowEdge();
    const key = freshKey();
    for (let i = 0; i < 5; i++) {
      const res = await request(path, { auth: key, env: limited(key) });
      expect(res.status).toBe(404);
      expect(res.headers.get("RateLimit-Policy")).toBe('"default";q=5;w=60');
    }
    const res = await request(path, { auth: key, env: limited(key) });
    const retryAfter = Number(res.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.headers.get("RateLimit-Policy")).toBe('"default";q=5;w=60');
    expect(res.headers.get("RateLimit")).toBe(`"default";r=0;t=${retryAfter}`);
    const problem = await expectProblem(res, 429, "rate-limited");
    expect(problem.detail).not.toContain(key);
  });

  it("counts each key on its own: another key is unaffected", async () => {
    await awayFromWindowEdge();
    const [a, b] = [freshKey(), freshKey()];
    for (let i = 0; i < 6; i++) await request(path, { auth: a, env: limited(a, b) });
    expect((await request(path, { auth: a, env: limited(a, b) })).status).toBe(429);
    expect((await request(path, { auth: b, env: limited(a, b) })).status).toBe(404);
  });

  it("applies to successful listings too, and never to public routes or unauthenticated requests", async () => {
    await awayFromWindowEdge();
    const key = freshKey();
    const ok = await request("/v1/inkit/runs?limit=1", { auth: key, env: limited(key) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("RateLimit-Policy")).toBe('"default";q=5;w=60');
    for (let i = 0; i < 5; i++) await request(path, { auth: key, env: limited(key) });
    await expectProblem(await request("/v1/inkit/runs?limit=1", { auth: key, env: limited(key) }), 429, "rate-limited");
    expect((await request("/healthz", { auth: key, env: limited(key) })).status).toBe(200);
    expect((await request("/healthz", { auth: false, env: limited(key) })).headers.get("RateLimit-Policy")).toBeNull();
    await expectProblem(await request(path, { auth: "wrong", env: limited(key) }), 401, "unauthorized");
  });

  it("fails open when the limiter itself fails", async () => {
    const broken = { limit: () => Promise.reject(new Error("limiter down")) };
    const key = freshKey();
    for (let i = 0; i < 7; i++) {
      expect((await request(path, { auth: key, env: { ...limited(key), RATE_LIMITER: broken } })).status).toBe(404);
    }
  });

  it("the window's reset is counted in whole seconds to the window's end", () => {
    expect(windowResetSeconds(60, 120_000)).toBe(60);
    expect(windowResetSeconds(60, 179_500)).toBe(1);
    expect(windowResetSeconds(10, 1_003_000)).toBe(7);
  });
});

describe("OpenAPI", () => {
  it("documents the 429 (Retry-After, RateLimit, RateLimit-Policy) on every keyed /v1 operation, and the 503", async () => {
    type Op = { security?: unknown[]; responses: Record<string, { headers?: Record<string, unknown> }> };
    const { body } = await callJson<{ paths: Record<string, Record<string, Op>> }>("/openapi.json", { auth: false });
    const keyed = Object.entries(body.paths)
      .filter(([path]) => path.startsWith("/v1/"))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ at: `${method} ${path}`, op })))
      .filter(({ op }) => op.security === undefined);
    expect(keyed.length).toBeGreaterThanOrEqual(6);
    for (const { at, op } of keyed) {
      expect(Object.keys(op.responses["429"]?.headers ?? {}).sort(), at).toEqual([
        "RateLimit",
        "RateLimit-Policy",
        "Retry-After",
      ]);
      expect(op.responses["503"], at).toBeDefined();
      // Routes that read an upstream can answer 503 upstream-unavailable (circuit open), with Retry-After.
      if (/^get \/v1\/(inkit|8x8|runs)/.test(at))
        expect(op.responses["503"]?.headers, at).toHaveProperty("Retry-After");
    }
  });

  it("the new problem types resolve", async () => {
    for (const [slug, status] of [
      ["upstream-unavailable", 503],
      ["uri-too-long", 414],
      ["rate-limited", 429],
    ] as const) {
      const { body } = await callJson<{ status: number }>(`/problems/${slug}`, { auth: false });
      expect(body.status, slug).toBe(status);
    }
  });
});

describe("configuration", () => {
  // wrangler.toml as wrangler parsed it when the test run started (vitest.config.ts).
  const declared = (env as unknown as { TEST_DECLARED: DeclaredConfig }).TEST_DECLARED;

  it("wrangler.toml's [[ratelimits]] simple limit is what RATE_LIMIT_REQUESTS and RATE_LIMIT_PERIOD_SECONDS announce", async () => {
    const limiters = declared.ratelimits.filter((r) => r.name === "RATE_LIMITER");
    expect(limiters).toHaveLength(1);
    const { limit, period } = limiters[0]?.simple ?? {};
    expect(limit).toEqual(expect.any(Number));
    expect(period).toEqual(expect.any(Number));
    // The test runtime runs with wrangler.toml's vars for these two (only the limiter binding itself is replaced).
    expect(declared.vars.RATE_LIMIT_REQUESTS).toBe((env as unknown as Record<string, unknown>).RATE_LIMIT_REQUESTS);
    expect(declared.vars.RATE_LIMIT_PERIOD_SECONDS).toBe(
      (env as unknown as Record<string, unknown>).RATE_LIMIT_PERIOD_SECONDS,
    );
    // What a deployment of this wrangler.toml announces, against what its limiter enforces.
    const res = await request("/v1/problems-that-do-not-exist");
    expect(res.headers.get("RateLimit-Policy")).toBe(`"default";q=${limit};w=${period}`);
  });
});

interface DeclaredConfig {
  ratelimits: { name: string; simple?: { limit: number; period: number } }[];
  vars: Record<string, unknown>;
}
