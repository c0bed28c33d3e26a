import { describe, expect, it } from "vitest";
import { TEST_API_KEY_2 } from "../setup/bindings";
import { expectProblem } from "../support/problem";
import { call, request } from "../support/worker";

describe("bearer auth on /v1", () => {
  it("401 with WWW-Authenticate when the header is missing", async () => {
    const res = await call("/v1/anything", { auth: false });
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    const problem = await expectProblem(res, 401, "unauthorized");
    expect(problem.detail).toContain("Authorization: Bearer");
  });

  it("401 for a wrong key, without echoing it", async () => {
    const res = await call("/v1/anything", { auth: "not-a-real-key" });
    expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
    const problem = await expectProblem(res, 401, "unauthorized");
    expect(JSON.stringify(problem)).not.toContain("not-a-real-key");
  });

  it("401 for a non-bearer scheme", async () => {
    const res = await call("/v1/anything", { headers: { Authorization: "Basic dXNlcjpwYXNz" } });
    await expectProblem(res, 401, "unauthorized");
  });

  it("accepts every configured key: a known key reaches routing (404 for an unknown route)", async () => {
    await expectProblem(await call("/v1/anything"), 404, "not-found");
    await expectProblem(await call("/v1/anything", { auth: TEST_API_KEY_2 }), 404, "not-found");
  });

  it("fails closed with 503 when API_KEYS is not configured", async () => {
    const res = await request("/v1/anything", { env: { API_KEYS: "" } });
    await expectProblem(res, 503, "service-unavailable");
  });

  it("keeps public routes public", async () => {
    expect((await call("/healthz", { auth: false })).status).toBe(200);
    expect((await call("/openapi.json", { auth: false })).status).toBe(200);
    expect((await call("/docs", { auth: false })).status).toBe(200);
  });
});
