import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { createApp } from "../../src/app";
import { TEST_API_KEY } from "../setup/bindings";
import { captureLogs } from "../support/hardening";
import { expectProblem } from "../support/problem";

const app = createApp();
const DEFINITION = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.appointmentReminders;

async function get(path: string, bindings: Env) {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(new URL(path, "https://tributary.test"), { headers: { Authorization: `Bearer ${TEST_API_KEY}` } }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const warnings = (lines: string[]) =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "configuration");

describe("misconfigured vars are visible", () => {
  it("one warn line per var and isolate, naming it, what is wrong and the value used instead; never a secret", async () => {
    const short = "garbage";
    const shortKey = "short-webhook-key";
    // One env object, as an isolate has: the warnings come with its first request only.
    const bindings = {
      ...env,
      LOG_LEVEL: "warn",
      UPSTREAM_TIMEOUT_MS: "abc",
      WEBHOOK_CHECK_CALLS: "5",
      ALLOW_INSECURE_WEBHOOK_URLS: "yes",
      WEBHOOK_ENCRYPTION_KEY: shortKey,
      CURSOR_SECRET: short,
    } as Env;
    const { lines } = await captureLogs(async () => {
      for (let i = 0; i < 3; i++) await get("/v1/webhook-endpoints?limit=1", bindings);
    });
    const found = warnings(lines);
    expect(found.map((w) => w.var)).toEqual([
      "UPSTREAM_TIMEOUT_MS",
      "WEBHOOK_CHECK_CALLS",
      "ALLOW_INSECURE_WEBHOOK_URLS",
      "WEBHOOK_ENCRYPTION_KEY",
      "CURSOR_SECRET",
    ]);
    expect(found[0]).toEqual({
      level: "warn",
      msg: "configuration",
      var: "UPSTREAM_TIMEOUT_MS",
      problem: '"abc" is not an integer from 100 to 60000',
      used: 8000,
    });
    expect(found[1]).toMatchObject({ problem: '"5" is not an integer from 16 to 1000', used: 40 });
    expect(found[2]).toMatchObject({ used: false });
    expect(found[3]?.problem).toMatch(/32 characters/);
    expect(found[4]?.problem).toMatch(/32 bytes/);
    const all = lines.join("\n");
    expect(all).not.toContain(short);
    expect(all).not.toContain(shortKey);
  });

  it("correct vars raise no warning", async () => {
    const { lines } = await captureLogs(() =>
      get("/v1/webhook-endpoints?limit=1", { ...env, LOG_LEVEL: "warn" } as Env),
    );
    expect(warnings(lines)).toEqual([]);
  });
});

describe("a cursor secret shorter than 32 bytes", () => {
  const s32 = "0123456789abcdef0123456789abcdef";

  it("makes list routes answer the 503 a missing one gets, naming the var and the rule", async () => {
    for (const secret of ["garbage", `k1:${s32.slice(1)}`, `k2:${s32},k1:tiny-value`]) {
      const res = await get("/v1/inkit/runs?limit=2", { ...env, CURSOR_SECRET: secret } as Env);
      const problem = await expectProblem(res, 503, "service-unavailable");
      expect(problem.detail).toContain("CURSOR_SECRET");
      expect(problem.detail).toContain("at least 32 bytes");
      for (const part of ["garbage", s32.slice(1), "tiny-value"]) expect(problem.detail).not.toContain(part);
    }
    const missing = await get("/v1/inkit/runs?limit=2", { ...env, CURSOR_SECRET: "" } as Env);
    const problem = await expectProblem(missing, 503, "service-unavailable");
    expect(problem.detail).toContain("CURSOR_SECRET is unset");
  });

  it("the rule counts the secret part only: a 32-byte secret after its key id pages", async () => {
    expect((await get("/v1/inkit/runs?limit=2", { ...env, CURSOR_SECRET: `k1:${s32}` } as Env)).status).toBe(200);
    expect((await get("/v1/inkit/runs?limit=2", { ...env, CURSOR_SECRET: s32 } as Env)).status).toBe(200);
  });

  it("the merged feed and the 8x8 list answer the same", async () => {
    const bindings = { ...env, CURSOR_SECRET: "k1:short" } as Env;
    for (const path of ["/v1/runs?limit=2", `/v1/8x8/accounts/acme-ops/definitions/${DEFINITION}/runs?limit=2`]) {
      await expectProblem(await get(path, bindings), 503, "service-unavailable");
    }
  });
});
