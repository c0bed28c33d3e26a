import { beforeEach, describe, expect, it } from "vitest";
import { TEST_API_KEY, TEST_API_KEY_2, testBindings } from "../setup/bindings";
import { captureLogs } from "../support/hardening";
import { expectProblem } from "../support/problem";
import { inkitSim, resetSimulators } from "../support/simulator";
import type { PageBody } from "../support/walk";
import { request } from "../support/worker";

beforeEach(resetSimulators);

describe("secure headers", () => {
  it("API responses, problems included, forbid loading, framing and sniffing", async () => {
    for (const res of [
      await request("/v1/inkit/runs?limit=1"),
      await request("/v1/nope"),
      await request("/healthz", { auth: false }),
    ]) {
      const csp = res.headers.get("Content-Security-Policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("X-Frame-Options")).toBe("DENY");
      expect(res.headers.get("Strict-Transport-Security")).toMatch(/^max-age=\d+/);
      expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
    }
  });

  it("/docs may load its own scripts and styles only, and its page needs nothing else", async () => {
    const res = await request("/docs", { auth: false });
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const html = await res.text();
    // Every script and stylesheet is a same-origin /docs file; no inline script or style.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/docs\/[\w.-]+\.js"/);
      expect(body?.trim()).toBe("");
    }
    expect(html).not.toMatch(/<style|style=/);
    for (const href of html.matchAll(/href="([^"]+)"/g)) expect(href[1]).toMatch(/^\/docs\/[\w.-]+\.css$/);
    for (const [asset, type] of [
      ["/docs/swagger-ui-bundle.js", /javascript/],
      ["/docs/swagger-ui.css", /css/],
      ["/docs/init.js", /javascript/],
    ] as const) {
      const a = await request(asset, { auth: false });
      expect(a.status, asset).toBe(200);
      expect(a.headers.get("Content-Type"), asset).toMatch(type);
      expect(a.headers.get("Content-Security-Policy"), asset).toContain("script-src 'self'");
    }
    // The UI fetches the document from the same origin, which connect-src 'self' allows.
    expect(await (await request("/docs/init.js", { auth: false })).text()).toContain('url: "/openapi.json"');
  });
});

describe("CORS", () => {
  const origin = "https://app.example";

  it("is off by default: no CORS header for any origin, and a preflight gets no permission", async () => {
    const res = await request("/v1/inkit/runs?limit=1", { headers: { Origin: origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const preflight = await request("/v1/inkit/runs", {
      method: "OPTIONS",
      auth: false,
      headers: { Origin: origin, "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();
    await expectProblem(preflight);
  });

  it("CORS_ORIGINS allows exactly the listed origins, without credentials", async () => {
    const vars = { CORS_ORIGINS: `${origin}, https://admin.example` };
    const ok = await request("/v1/inkit/runs?limit=1", { env: vars, headers: { Origin: origin } });
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe(origin);
    expect(ok.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    expect(ok.headers.get("Access-Control-Expose-Headers")).toContain("RateLimit-Policy");
    expect(ok.headers.get("Vary")).toContain("Origin");
    // Errors too, or a browser could not read them.
    const denied = await request("/v1/inkit/runs", { env: vars, auth: false, headers: { Origin: origin } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBe(origin);
    const other = await request("/v1/inkit/runs?limit=1", { env: vars, headers: { Origin: "https://evil.example" } });
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();

    const preflight = await request("/v1/inkit/runs", {
      method: "OPTIONS",
      auth: false,
      env: vars,
      headers: { Origin: origin, "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe(origin);
    expect(preflight.headers.get("Access-Control-Allow-Headers")).toContain("Authorization");
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toContain("GET");
  });

  it("lets browsers send the write headers and read what a write answers", async () => {
    const vars = { CORS_ORIGINS: origin };
    const preflight = await request("/v1/webhook-endpoints", {
      method: "OPTIONS",
      auth: false,
      env: vars,
      headers: { Origin: origin, "Access-Control-Request-Method": "POST" },
    });
    for (const name of ["Idempotency-Key", "If-Match"]) {
      expect(preflight.headers.get("Access-Control-Allow-Headers")).toContain(name);
    }
    const res = await request("/v1/inkit/runs?limit=1", { env: vars, headers: { Origin: origin } });
    for (const name of ["Idempotent-Replayed", "Location", "ETag", "Retry-After"]) {
      expect(res.headers.get("Access-Control-Expose-Headers")).toContain(name);
    }
  });
});

describe("X-Request-Id", () => {
  it("a safe id is accepted and echoed in the header and the problem", async () => {
    const res = await request("/v1/inkit/runs?limit=0", { headers: { "X-Request-Id": "req-A_1=" } });
    expect(res.headers.get("X-Request-Id")).toBe("req-A_1=");
    expect((await expectProblem(res, 400, "validation-error")).request_id).toBe("req-A_1=");
  });

  it("an unsafe id (too long, odd characters, unicode, injection) is replaced by a generated one", async () => {
    for (const id of ["a".repeat(256), "a b", "id;drop", "<script>", "é", '"quoted"', "a/b"]) {
      const res = await request("/v1/nope", { headers: { "X-Request-Id": id } });
      expect(res.headers.get("X-Request-Id"), id).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(await expectProblem(res))).not.toContain(id);
    }
  });

  it("every problem carries the request id, whatever produced it", async () => {
    const problems = [
      await request("/v1/inkit/runs", { auth: false }),
      await request("/v1/inkit/runs?bogus=1"),
      await request("/v1/inkit/runs", { method: "DELETE" }),
      await request("/v1/nope"),
      await request("/v1/inkit/runs", { env: { API_KEYS: "" } }),
    ];
    for (const res of problems) expect((await expectProblem(res)).request_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("structured logs", () => {
  const cursorSecret = testBindings({ inkitUrl: "", eightByEightUrl: "" }).CURSOR_SECRET;

  it("one JSON line per request, with no key, token, cursor, query string or secret in it", async () => {
    const token = "sim_inkit_demo_token";
    const info = { LOG_LEVEL: "info" };
    const { lines } = await captureLogs(async () => {
      const first = await request("/v1/inkit/runs?limit=2&search=Invoice", {
        env: info,
        headers: { "X-Inkit-API-Token": token, "X-Request-Id": "log-test-1" },
      });
      const cursor = ((await first.json()) as PageBody).page.next_cursor ?? "";
      await request(`/v1/inkit/runs?cursor=${encodeURIComponent(cursor)}`, {
        env: info,
        headers: { "X-Inkit-API-Token": token },
      });
      await request("/v1/inkit/runs", { env: info, auth: "not-the-key" });
      return cursor;
    });
    const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    expect(requests).toHaveLength(3);
    expect(requests[0]).toEqual({
      level: "info",
      msg: "request",
      method: "GET",
      path: "/v1/inkit/runs",
      status: 200,
      duration_ms: expect.any(Number),
      request_id: "log-test-1",
      key_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      upstream_attempts: 1,
      upstream_calls: { inkit: 1 },
      upstream_ms: { inkit: expect.any(Number) },
      cache: "miss",
      // One point for the upstream call, one for the request (miniflare's ANALYTICS binding takes them).
      points_written: 2,
      points_dropped: 0,
    });
    expect(requests[2]).toMatchObject({ level: "warn", status: 401, key_id: null });
    const all = lines.join("\n");
    for (const secret of [
      TEST_API_KEY,
      token,
      "not-the-key",
      "Invoice",
      "cursor=",
      "k2.",
      ...cursorSecret.split(/[,:]/),
    ]) {
      expect(all, secret).not.toContain(secret);
    }
  });

  it("LOG_LEVEL=warn keeps only 4xx and 5xx lines; off keeps none", async () => {
    const warn = await captureLogs(async () => {
      await request("/healthz", { auth: false, env: { LOG_LEVEL: "warn" } });
      await request("/v1/nope", { env: { LOG_LEVEL: "warn" } });
    });
    expect(warn.lines.map((l) => JSON.parse(l).status)).toEqual([404]);
    const off = await captureLogs(() => request("/v1/nope", { env: { LOG_LEVEL: "off" } }));
    expect(off.lines).toEqual([]);
  });
});

describe("credentials are never echoed", () => {
  it("a malformed pass-through credential is a 401 naming the header, without calling or echoing it", async () => {
    await inkitSim.clearCounters();
    for (const bad of ["tok en", "tok\u00e9n", "x".repeat(600)]) {
      const res = await request("/v1/inkit/runs", { headers: { "X-Inkit-API-Token": bad } });
      expect(res.status, bad).toBeOneOf([400, 401]);
      expect(JSON.stringify(await expectProblem(res))).not.toContain(bad);
    }
    expect((await inkitSim.counters()).total).toBe(0);
  });

  it("a rejected pass-through credential, a wrong API key and a revoked configured token are not echoed", async () => {
    const checks: [Response, string][] = [
      [
        await request("/v1/inkit/runs", { headers: { "X-Inkit-API-Token": "sim_wrong_token_123" } }),
        "sim_wrong_token_123",
      ],
      [await request("/v1/inkit/runs", { auth: "trib_guess_0000" }), "trib_guess_0000"],
      [await request("/v1/inkit/runs", { env: { INKIT_API_TOKEN: "revoked_token_xyz" } }), "revoked_token_xyz"],
    ];
    for (const [res, secret] of checks) {
      const text = JSON.stringify(await expectProblem(res)) + [...res.headers].join();
      expect(text).not.toContain(secret);
    }
  });
});

describe("tenants stay apart", () => {
  const other = { "X-Inkit-API-Token": "sim_inkit_other_token" };

  it("API key B with the same pass-through credential as A cannot use A's cursor", async () => {
    const first = await request("/v1/inkit/runs?limit=3", { headers: other });
    const cursor = ((await first.json()) as PageBody).page.next_cursor as string;
    const withCursor = `/v1/inkit/runs?cursor=${encodeURIComponent(cursor)}`;
    const problem = await expectProblem(
      await request(withCursor, { auth: TEST_API_KEY_2, headers: other }),
      400,
      "invalid-cursor",
    );
    expect(problem.detail).toMatch(/another caller/);
    expect((await request(withCursor, { headers: other })).status).toBe(200);
  });

  it("key B never reads key A's pass-through tenant from the cache, nor A's single batch", async () => {
    const aRuns = (await (await request("/v1/inkit/runs?limit=5", { headers: other })).json()) as PageBody;
    const bRuns = (await (await request("/v1/inkit/runs?limit=5", { auth: TEST_API_KEY_2 })).json()) as PageBody;
    expect(bRuns.data.map((r) => r.id)).not.toEqual(aRuns.data.map((r) => r.id));
    const otherBatch = (await inkitSim.items({ kind: "document_batch", tenant: "other" })).items[0]?.id;
    expect((await request(`/v1/inkit/batches/${otherBatch}`, { headers: other })).status).toBe(200);
    await expectProblem(await request(`/v1/inkit/batches/${otherBatch}`, { auth: TEST_API_KEY_2 }), 404, "not-found");
  });
});
