import { describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { MAX_URL_LENGTH } from "../../src/http/input-guard";
import { expectProblem } from "../support/problem";
import type { PageBody } from "../support/walk";
import { request } from "../support/worker";

const def = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.orderNotifications;
const runs8x8 = `/v1/8x8/accounts/acme-ops/definitions/${def}/runs`;
const json = { "Content-Type": "application/json" };

describe("request bodies", () => {
  it("a body over 64 KiB is a 413 problem, declared or streamed, on every /v1 route", async () => {
    const big = JSON.stringify({ url: "https://example.com/hook", pad: "x".repeat(70 * 1024) });
    for (const path of ["/v1/webhook-endpoints", "/v1/inbound/inkit", "/v1/inkit/runs"]) {
      const declared = await request(path, { method: "POST", headers: json, body: big });
      await expectProblem(declared, 413, "payload-too-large");
    }
    const bytes = new TextEncoder().encode(big);
    const streamed = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
        controller.close();
      },
    });
    const res = await request("/v1/webhook-endpoints", { method: "POST", headers: json, body: streamed });
    await expectProblem(res, 413, "payload-too-large");
  });

  it("BODY_LIMIT_BYTES sets the limit", async () => {
    const res = await request("/v1/webhook-endpoints", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ pad: "x".repeat(2048) }),
      env: { BODY_LIMIT_BYTES: "1024" },
    });
    await expectProblem(res, 413, "payload-too-large");
  });

  it("a malformed JSON body is a 400 problem, not a 5xx", async () => {
    const res = await request("/v1/webhook-endpoints", { method: "POST", headers: json, body: "{not json" });
    expect(res.status).toBe(400);
    await expectProblem(res);
  });
});

describe("URLs and query strings", () => {
  it("a URL over the limit is a 414 problem", async () => {
    const res = await request(`/v1/inkit/runs?search=${"a".repeat(MAX_URL_LENGTH)}`);
    await expectProblem(res, 414, "uri-too-long");
  });

  it("control characters in a value or a name are a 400 naming the parameter", async () => {
    for (const q of ["search=a%00b", "search=line%0Abreak", "destination_status=%7F", "search=%C2%85"]) {
      const problem = await expectProblem(await request(`/v1/inkit/runs?${q}`), 400, "validation-error");
      expect(problem.errors?.[0]).toMatchObject({ in: "query", message: "Contains control characters." });
    }
    const named = await expectProblem(await request("/v1/inkit/runs?bad%01name=1"), 400, "validation-error");
    expect(named.errors?.[0]?.name).toBe("bad\\u0001name");
  });

  it("a repeated parameter is a 400 naming it", async () => {
    for (const q of ["limit=5&limit=6", "cursor=a&cursor=b", "sort=name&sort=-name", "search=a&search=a"]) {
      const problem = await expectProblem(await request(`/v1/inkit/runs?${q}`), 400, "validation-error");
      expect(problem.errors?.map((e) => e.name)).toContain(q.split("=")[0]);
    }
  });

  it("absurd numbers are 400s", async () => {
    for (const limit of ["1e309", "99999999999999999999", "-1", "1.5", "NaN", "Infinity", "", "5abc"]) {
      const res = await request(`/v1/inkit/runs?limit=${encodeURIComponent(limit)}`);
      expect(res.status, limit).toBe(400);
      await expectProblem(res);
    }
    const version = await request(`${runs8x8}?version=${"9".repeat(400)}`);
    await expectProblem(version, 400, "validation-error");
  });

  it("filter timestamps outside 1970..9999 UTC are 400s, not a 500 or an upstream's 502", async () => {
    for (const t of [
      "9999-12-31T23:59:59-23:59",
      "0000-01-01T00:00:00+01:00",
      "0001-01-01T00:00:00Z",
      "1969-12-31T23:59:59Z",
    ]) {
      for (const name of ["started_from", "started_to"]) {
        const res = await request(`${runs8x8}?${name}=${encodeURIComponent(t)}`);
        const problem = await expectProblem(res, 400, "validation-error");
        expect(problem.errors, `${name}=${t}`).toEqual([{ in: "query", name, message: expect.stringMatching(/1970/) }]);
      }
    }
    expect((await request(`${runs8x8}?started_from=1970-01-01T00:00:00Z&limit=1`)).status).toBe(200);
  });

  it("absurdly long or garbage cursors are 400s", async () => {
    await expectProblem(await request(`/v1/inkit/runs?cursor=${"A".repeat(5000)}`), 400, "validation-error");
    for (const cursor of [
      "A".repeat(4096),
      "k2..",
      "k2.%%%.x",
      "k2.eyJ2IjoxfQ.AAAA",
      "\u00e9.\u00e9.\u00e9",
      ".",
      "k2.a.b.c",
    ]) {
      const res = await request(`/v1/inkit/runs?cursor=${encodeURIComponent(cursor)}`);
      await expectProblem(res, 400, "invalid-cursor");
    }
  });
});

describe("paths", () => {
  it("hostile path segments are 400s or 404s, never 5xx", async () => {
    for (const path of [
      "/v1/inkit/batches/%00",
      "/v1/inkit/batches/..%2F..%2Fetc%2Fpasswd",
      `/v1/inkit/batches/${"a".repeat(5000)}`,
      "/v1/inkit/batches/%E2%80%AE",
      "/v1/inkit/batches/%",
      "/v1/8x8/accounts/%20/definitions/not-a-uuid/runs",
      `/v1/8x8/accounts/${"x".repeat(200)}/definitions/${def}/runs`,
      "/v1/inkit//runs",
    ]) {
      const res = await request(path);
      expect([400, 404], path).toContain(res.status);
      await expectProblem(res);
    }
  });
});

describe("methods", () => {
  it("a known path with the wrong method is a 405 problem with Allow", async () => {
    for (const [method, path] of [
      ["DELETE", "/v1/inkit/runs"],
      ["POST", runs8x8],
      ["PUT", "/v1/inkit/batches/rb_123"],
    ] as const) {
      const res = await request(path, { method });
      expect(res.headers.get("Allow"), `${method} ${path}`).toBe("GET, HEAD");
      await expectProblem(res, 405, "method-not-allowed");
    }
    const health = await request("/healthz", { method: "POST", auth: false });
    expect(health.headers.get("Allow")).toBe("GET, HEAD");
    await expectProblem(health, 405, "method-not-allowed");
    const endpoints = await request("/v1/webhook-endpoints", { method: "PUT" });
    expect(endpoints.headers.get("Allow")?.split(", ").sort()).toEqual(["GET", "HEAD", "POST"]);
  });

  it("an unknown path is a 404 whatever the method, and HEAD works wherever GET does", async () => {
    await expectProblem(await request("/v1/nothing-here", { method: "POST" }), 404, "not-found");
    const head = await request("/v1/inkit/runs?limit=1", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });
});

describe("headers", () => {
  it("an oversized pass-through credential or X-Request-Id is refused or replaced, never a 5xx", async () => {
    const long = "x".repeat(8 * 1024);
    const res = await request("/v1/inkit/runs", { headers: { "X-Inkit-API-Token": long, "X-Request-Id": long } });
    expect(res.status).toBe(400);
    expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    await expectProblem(res);
    const auth = await request("/v1/inkit/runs", { auth: long });
    await expectProblem(auth, 401, "unauthorized");
  });

  it("odd If-None-Match and Cache-Control values are served or refused, never a 5xx", async () => {
    const odd: Record<string, string>[] = [
      { "If-None-Match": "*" },
      { "If-None-Match": 'W/, ,,""' },
      { "Cache-Control": "no-cache".repeat(100) },
      { "Cache-Control": "max-age=-1, no-cache" },
    ];
    for (const headers of odd) {
      const res = await request("/v1/inkit/runs?limit=1", { headers });
      expect([200, 304, 400]).toContain(res.status);
      if (res.status === 200) expect(((await res.json()) as PageBody).data).toHaveLength(1);
      if (res.status === 400) await expectProblem(res);
    }
  });
});
