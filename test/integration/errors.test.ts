import { describe, expect, it } from "vitest";
import { expectProblem } from "../support/problem";
import { call, callJson } from "../support/worker";

describe("one error model", () => {
  it("unknown routes are 404 problem documents, public or not", async () => {
    const problem = await expectProblem(await call("/nope", { auth: false }), 404, "not-found");
    expect(problem.detail).toBe("No route matches GET /nope.");
    expect(problem.instance).toBe("/nope");
  });

  it("an invalid path parameter is a 400 naming it", async () => {
    const problem = await expectProblem(await call("/problems/no-such-type", { auth: false }), 400, "validation-error");
    expect(problem.errors).toEqual([{ in: "path", name: "slug", message: expect.any(String) }]);
  });

  it("accepts a well-formed X-Request-Id and echoes it, and generates one otherwise", async () => {
    const res = await call("/nope", { auth: false, headers: { "X-Request-Id": "client-req-123" } });
    expect(res.headers.get("X-Request-Id")).toBe("client-req-123");
    const body = (await res.json()) as { request_id: string };
    expect(body.request_id).toBe("client-req-123");
    const generated = await call("/nope", { auth: false, headers: { "X-Request-Id": "bad id with spaces" } });
    expect(generated.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("every problem type resolves to a description", async () => {
    const { res, body } = await callJson<{ type: string; status: number }>("/problems/invalid-cursor", { auth: false });
    expect(res.status).toBe(200);
    expect(body).toEqual({ type: "/problems/invalid-cursor", title: "Invalid cursor", status: 400 });
  });
});

describe("meta routes", () => {
  it("/healthz reports the package version", async () => {
    const { res, body } = await callJson<{ status: string; version: string }>("/healthz", { auth: false });
    expect(res.status).toBe(200);
    expect(body.status).toBe("ok");
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("/docs serves the reference UI and its assets from this worker, no CDN", async () => {
    const res = await call("/docs", { auth: false });
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/init.js"]) {
      const a = await call(asset, { auth: false });
      expect(a.status, asset).toBe(200);
      expect((await a.text()).length, asset).toBeGreaterThan(10);
    }
  });
});
