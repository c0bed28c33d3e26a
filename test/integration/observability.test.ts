import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { TEST_API_KEY } from "../setup/bindings";
import { type DecodedPoint, recordingDataset } from "../support/analytics";
import { captureLogs } from "../support/hardening";
import { inkitSim, resetSimulators } from "../support/simulator";
import { call } from "../support/worker";

const app = createApp();
const ORIGIN = "https://tributary.test";
const ds = recordingDataset();

/** The app with these bindings, waiting for its background work (so late points are in too). */
async function get(path: string, bindings: Env, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(new URL(path, ORIGIN), { headers: { Authorization: `Bearer ${TEST_API_KEY}`, ...headers } }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const withDataset = { ...env, ANALYTICS: ds.binding } as Env;
const upstreamCalls = async () => (await inkitSim.counters()).total;

/** `Server-Timing` as name → {dur, desc}; it must parse entirely in the standard's syntax. */
function timing(res: Response) {
  const header = res.headers.get("Server-Timing") ?? "";
  const metric = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)((?:;dur=\d+(?:\.\d+)?)?)((?:;desc=(?:"[^"]*"|[A-Za-z0-9-]+))?)$/;
  const out = new Map<string, { dur: number | null; desc: string | null }>();
  for (const part of header.split(", ")) {
    const m = metric.exec(part);
    if (!m) throw new Error(`Server-Timing entry "${part}" does not parse (${header})`);
    out.set(m[1] as string, {
      dur: m[2] ? Number(m[2].slice(5)) : null,
      desc: m[3] ? m[3].slice(6).replace(/^"|"$/g, "") : null,
    });
  }
  return { header, metrics: out };
}

const ofKind = (points: DecodedPoint[], kind: string) => points.filter((p) => p.kind === kind);

// Filters every run matches (run ids start with `rend_`): each gives a listing no other test read.
const everyRun = [...new Set([..."rend_"].flatMap((_, i) => [..."rend_"].map((_, j) => "rend_".slice(i, j + 1))))]
  .filter(Boolean)
  .flatMap((s) => [`search=${s}`, `search=${s}&destination_name=inkit_storage`]);
let n = 0;
/** A listing no other test read: every test starts from a cold cache entry. */
const coldPath = () => `/v1/inkit/runs?limit=${5 + n}&${everyRun[n++]}`;

beforeEach(async () => {
  await resetSimulators();
  // The configured Inkit account's budget is warm, as on a busy isolate: its calls draw from tokens already granted,
  // with no round trip to its object (a cold isolate's first call waits for one, and shows a `budget` entry:
  // test/integration/upstream-budget.test.ts).
  await get("/v1/inkit/runs?limit=1", env, { "Cache-Control": "no-cache" });
  await inkitSim.clearCounters();
  ds.take();
});

afterEach(async () => {
  await inkitSim.clearFaults();
});

describe("Server-Timing and Analytics Engine points", () => {
  it("a cache miss: upstream time and calls per provider, `miss`, and one point per call plus the request's", async () => {
    const path = coldPath();
    const res = await get(path, withDataset);
    expect(res.status).toBe(200);
    const calls = await upstreamCalls();
    expect(calls).toBeGreaterThan(0);
    const { metrics } = timing(res);
    expect([...metrics.keys()]).toEqual(["inkit", "cache", "total"]);
    expect(metrics.get("inkit")?.desc).toBe(`${calls} call${calls === 1 ? "" : "s"}`);
    expect(metrics.get("cache")?.desc).toBe("miss");
    expect(metrics.get("total")?.dur).not.toBeNull();

    const points = ds.take();
    const upstream = ofKind(points, "upstream");
    expect(upstream).toHaveLength(calls);
    for (const p of upstream) {
      expect(p).toMatchObject({
        index: "inkit",
        provider: "inkit",
        listing: "inkit:runs",
        route: "/v1/inkit/runs",
        cache: "miss",
        statusClass: "2xx",
        errorType: "",
        address: new URL(inkitSim.url).host,
        status: 200,
        attempt: 1,
        cap: 0,
        calls: 1,
      });
    }
    const body = (await res.json()) as { data: unknown[] };
    expect(upstream.reduce((sum, p) => sum + p.items, 0)).toBeGreaterThanOrEqual(body.data.length);
    const [request] = ofKind(points, "request");
    expect(ofKind(points, "request")).toHaveLength(1);
    expect(request).toMatchObject({ route: "/v1/inkit/runs", cache: "miss", status: 200, statusClass: "2xx", calls });
    expect(points).toHaveLength(calls + 1);
  });

  it("a cache hit: no upstream entry, `hit`, and only the request's point", async () => {
    const path = coldPath();
    await get(path, withDataset);
    ds.take();
    await inkitSim.clearCounters();
    const res = await get(path, withDataset);
    expect(res.status).toBe(200);
    expect(await upstreamCalls()).toBe(0);
    const { metrics } = timing(res);
    expect([...metrics.keys()]).toEqual(["cache", "total"]);
    expect(metrics.get("cache")?.desc).toBe("hit");
    const points = ds.take();
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ kind: "request", route: "/v1/inkit/runs", cache: "hit", calls: 0, status: 200 });
  });

  it("`Cache-Control: no-cache` is a bypass", async () => {
    const res = await get(coldPath(), withDataset, { "Cache-Control": "no-cache" });
    expect(timing(res).metrics.get("cache")?.desc).toBe("bypass");
    const points = ds.take();
    expect(ofKind(points, "upstream").every((p) => p.cache === "bypass")).toBe(true);
    expect(ofKind(points, "request")[0]?.cache).toBe("bypass");
  });

  it("an upstream fault: a problem answer with every attempt timed, and one point per attempt", async () => {
    await inkitSim.fault({ status: 503 });
    const res = await get(coldPath(), withDataset);
    expect(res.status).toBe(502);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    const calls = await upstreamCalls();
    expect(calls).toBe(3);
    const { metrics } = timing(res);
    expect(metrics.get("inkit")?.desc).toBe("3 calls");
    expect(metrics.get("cache")?.desc).toBe("miss");
    const points = ds.take();
    const upstream = ofKind(points, "upstream");
    expect(upstream.map((p) => p.attempt)).toEqual([1, 2, 3]);
    for (const p of upstream) {
      expect(p).toMatchObject({ status: 503, statusClass: "5xx", errorType: "503", items: 0, listing: "inkit:runs" });
    }
    expect(ofKind(points, "request")).toEqual([
      expect.objectContaining({ status: 502, statusClass: "5xx", calls: 3, cache: "miss" }),
    ]);
  });

  it("a learned page-size cap lands on the call it was learned from", async () => {
    await inkitSim.fault({ route: "/v1/invoke/batch", page_size_cap: 11 });
    const res = await get("/v1/inkit/workflow-batches?limit=30", withDataset);
    expect(res.status).toBe(200);
    const upstream = ofKind(ds.take(), "upstream");
    expect(upstream.filter((p) => p.cap === 11)).toHaveLength(1);
    expect(upstream.every((p) => p.listing === "inkit:workflow-batches")).toBe(true);
  });

  it("a problem without upstream work still has Server-Timing, and nothing secret is ever in it", async () => {
    const invalid = await get("/v1/inkit/runs?limit=0", withDataset);
    expect(invalid.status).toBe(400);
    expect(timing(invalid).header).toMatch(/^cache;desc=none, total;dur=[\d.]+$/);
    const unauthenticated = await call("/v1/inkit/runs", { auth: false });
    expect(unauthenticated.status).toBe(401);
    expect(timing(unauthenticated).header).toMatch(/^cache;desc=none, total;dur=[\d.]+$/);

    // A second page, with a cursor and the caller's own upstream credential.
    const token = "sim_inkit_demo_token";
    const own = { "X-Inkit-API-Token": token };
    const first = (await (await get("/v1/inkit/runs?limit=3&search=end_", withDataset, own)).json()) as {
      page: { next_cursor: string };
    };
    const query = `limit=3&cursor=${first.page.next_cursor}`;
    const res = await get(`/v1/inkit/runs?${query}`, withDataset, own);
    expect(res.status).toBe(200);
    const { header } = timing(res);
    for (const secret of [TEST_API_KEY, token, first.page.next_cursor, query, "search", "?"]) {
      expect(header).not.toContain(secret);
    }
    const points = JSON.stringify(ds.points);
    for (const secret of [TEST_API_KEY, token, first.page.next_cursor, "search"]) {
      expect(points).not.toContain(secret);
    }
  });
});

describe("the Analytics Engine binding is optional", () => {
  it("miniflare's binding takes the points (it keeps none to read back)", async () => {
    const res = await get(coldPath(), env as Env);
    expect(res.status).toBe(200);
    expect(res.headers.get("Server-Timing")).toMatch(/^inkit;dur=/);
  });

  it("without it nothing is written, and one warn line per isolate says so", async () => {
    const { ANALYTICS: _, ...rest } = env as Env & { ANALYTICS?: unknown };
    const without = { ...rest, LOG_LEVEL: "warn" } as unknown as Env;
    const { lines } = await captureLogs(async () => {
      for (const path of [coldPath(), coldPath()]) expect((await get(path, without)).status).toBe(200);
    });
    const warnings = lines.filter((l) => l.includes("ANALYTICS"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] as string)).toMatchObject({ level: "warn", msg: "deployment incomplete" });
  });
});

describe("the request log line", () => {
  it("names calls and time per provider and the cache outcome", async () => {
    const bindings = { ...env, ANALYTICS: ds.binding, LOG_LEVEL: "info" } as Env;
    const path = coldPath();
    const { lines } = await captureLogs(async () => {
      await get(path, bindings);
      await get(path, bindings);
    });
    const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    const calls = await upstreamCalls();
    expect(requests).toEqual([
      expect.objectContaining({ cache: "miss", upstream_attempts: calls, upstream_calls: { inkit: calls } }),
      expect.objectContaining({ cache: "hit", upstream_attempts: 0, upstream_calls: {} }),
    ]);
    expect(requests[0].upstream_ms).toEqual({ inkit: expect.any(Number) });
    expect(requests[0].points_written).toBe(calls + 1);
  });
});
