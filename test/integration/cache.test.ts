import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { invalidateListings } from "../../src/cache/request-cache";
import { inkitSim, resetSimulators } from "../support/simulator";
import { inkitTruth, tieGroups } from "../support/truth";
import { walkForward } from "../support/walk";
import { request } from "../support/worker";

const calls = async () => (await inkitSim.counters()).total;

/** A request against the real app and the real KV namespace, with its waitUntil work awaited. */
async function get(path: string, headers: Record<string, string> = {}, overrides: Record<string, unknown> = {}) {
  const res = await request(path, { env: overrides, headers });
  return {
    res,
    body:
      res.status === 200
        ? ((await res.json()) as { data: { id: string }[]; page: { next_cursor: string | null } })
        : null,
  };
}

/** The real KV binding with its reads or writes made to fail: a fault injected around real storage. */
function failingKv(kv: KVNamespace, fail: "get" | "put" | "both"): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      if ((prop === "get" && fail !== "put") || (prop === "put" && fail !== "get")) {
        return () => Promise.reject(new Error("KV is unavailable"));
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

let path: string;
let n = 0;

// Filters every run matches (every run id contains them), so each test reads the same data through upstream
// requests no other test in this file made: lanes read aligned blocks, so the limit alone no longer tells them apart.
const everyRun = ["rend_", "rend", "end_", "ren", "end", "nd_", "re", "en", "nd", "d_"].flatMap((s) => [
  `search=${s}`,
  `search=${s}&destination_name=inkit_storage`,
]);

beforeEach(async () => {
  await resetSimulators();
  // A listing nobody else in this file has cached yet: every test starts from a cold entry.
  path = `/v1/inkit/runs?limit=${10 + n}&${everyRun[n++]}`;
  await inkitSim.clearCounters();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("listing cache", () => {
  it("a repeated request within the TTL costs no upstream call", async () => {
    const first = await get(path);
    expect(first.res.headers.get("Cache-Status")).toBe("tributary; fwd=miss; stored; ttl=15");
    expect(await calls()).toBe(1);
    const second = await get(path);
    expect(second.res.headers.get("Cache-Status")).toMatch(/^tributary; hit; ttl=1[0-5]$/);
    expect(second.res.headers.get("Age")).toMatch(/^[0-5]$/);
    expect(second.res.headers.get("Cache-Control")).toMatch(/^private, max-age=1[0-5]$/);
    expect(second.body).toEqual(first.body);
    expect(await calls()).toBe(1);
  });

  it("after the TTL and the stale window, one upstream call", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    await get(path);
    vi.setSystemTime(Date.now() + 80_000);
    const later = await get(path);
    expect(later.res.headers.get("Cache-Status")).toMatch(/fwd=miss; stored/);
    expect(await calls()).toBe(2);
  });

  it("a stale entry is served at once and refreshed once in the background", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const first = await get(path);
    await inkitSim.insert({ kind: "run", count: 1 });
    vi.setSystemTime(Date.now() + 20_000);
    const stale = await get(path);
    expect(stale.res.headers.get("Cache-Status")).toMatch(/^tributary; hit; ttl=-\d+; detail=stale$/);
    expect(Number(stale.res.headers.get("Age"))).toBeGreaterThanOrEqual(20);
    expect(stale.body).toEqual(first.body);
    // request awaited the background refresh: exactly one more upstream call, and the entry is fresh.
    expect(await calls()).toBe(2);
    const fresh = await get(path);
    expect(fresh.res.headers.get("Cache-Status")).toMatch(/^tributary; hit; ttl=1[0-5]$/);
    expect(fresh.body?.data[1]?.id).toBe(first.body?.data[0]?.id);
    expect(await calls()).toBe(2);
  });

  it("two upstream credentials never see each other's entries", async () => {
    const demo = await get(path);
    const other = await get(path, { "X-Inkit-API-Token": "sim_inkit_other_token" });
    expect(other.res.headers.get("Cache-Status")).toMatch(/fwd=miss/);
    expect(other.body?.data.map((r) => r.id)).not.toEqual(demo.body?.data.map((r) => r.id));
    const otherAgain = await get(path, { "X-Inkit-API-Token": "sim_inkit_other_token" });
    expect(otherAgain.body).toEqual(other.body);
    const demoAgain = await get(path);
    expect(demoAgain.body).toEqual(demo.body);
    expect(await calls()).toBe(2);
  });

  it("a hot entry is served from isolate memory: a repeated hit reads nothing from KV", async () => {
    const reads: string[] = [];
    const counting = new Proxy(env.CACHE, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === "get")
          return (key: string, ...rest: unknown[]) => {
            reads.push(key);
            return value.call(target, key, ...rest);
          };
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const first = await get(path, {}, { CACHE: counting });
    expect(first.res.headers.get("Cache-Status")).toMatch(/fwd=miss; stored/);
    const readsAfterMiss = reads.length;
    expect(readsAfterMiss).toBeGreaterThan(0);
    const second = await get(path, {}, { CACHE: counting });
    expect(second.res.headers.get("Cache-Status")).toMatch(/^tributary; hit; ttl=1[0-5]$/);
    expect(second.body).toEqual(first.body);
    expect(reads.length).toBe(readsAfterMiss);
    expect(await calls()).toBe(1);
  });

  it("a wrong pass-through credential never reads a cached entry", async () => {
    await get(path);
    const wrong = await request(path, { headers: { "X-Inkit-API-Token": "not-a-token" } });
    expect(wrong.status).toBe(401);
  });

  it("KV failures still serve correct data, and say so", async () => {
    const truth = (await get(path, { "Cache-Control": "no-cache" })).body;
    for (const fail of ["get", "put", "both"] as const) {
      const { res, body } = await get(path, {}, { CACHE: failingKv(env.CACHE, fail) });
      expect(res.status, fail).toBe(200);
      // Same items; the cursors differ only in their snapshot time (KV could not say when data was fetched).
      expect(body?.data, fail).toEqual(truth?.data);
      if (fail !== "put")
        expect(res.headers.get("Cache-Status"), fail).toBe("tributary; fwd=miss; detail=cache-unavailable");
    }
  });

  it("a page sent again from the isolate's ready copy has the headers of any response, this request's own included", async () => {
    const first = await get(path, { "X-Request-Id": "first-request" });
    expect(first.res.headers.get("Cache-Status")).toBe("tributary; fwd=miss; stored; ttl=15");
    const again = await get(path, { "X-Request-Id": "second-request" });
    expect(again.res.headers.get("Cache-Status")).toMatch(/^tributary; hit; ttl=1[45]$/);
    expect(again.body).toEqual(first.body);
    expect([...again.res.headers.keys()]).toEqual([...first.res.headers.keys()]);
    expect(again.res.headers.get("X-Request-Id")).toBe("second-request");
    expect(again.res.headers.get("RateLimit-Policy")).toBe(first.res.headers.get("RateLimit-Policy"));
    expect(again.res.headers.get("RateLimit-Policy")).not.toBeNull();

    const etag = first.res.headers.get("ETag") as string;
    const unmodified = await request(path, { headers: { "If-None-Match": etag, "X-Request-Id": "third-request" } });
    expect(unmodified.status).toBe(304);
    expect(unmodified.headers.get("X-Request-Id")).toBe("third-request");
    expect(unmodified.headers.get("RateLimit-Policy")).not.toBeNull();
    expect(unmodified.headers.get("Content-Type")).toBeNull();
    expect(await calls()).toBe(1);
  });

  it("If-None-Match with the ETag is a 304 without a body", async () => {
    const first = await get(path);
    const etag = first.res.headers.get("ETag");
    // Weak: the tag stands for the page's content, not its bytes (see the revalidation tests below).
    expect(etag).toMatch(/^W\/"[0-9a-f]{32}"$/);
    const again = await request(path, { headers: { "If-None-Match": etag as string } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("ETag")).toBe(etag);
    const other = await request(path, { headers: { "If-None-Match": '"0000"' } });
    expect(other.status).toBe(200);
  });

  it("a revalidation as the Fetch standard sends it (no-cache) that finds the same data is a 304 with the same ETag", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const first = await get(path);
    const etag = first.res.headers.get("ETag") as string;
    vi.setSystemTime(Date.now() + 5_000);
    // A fetch with If-None-Match adds Cache-Control: no-cache and Pragma: no-cache (Fetch standard, HTTP-network-or-cache fetch).
    const revalidation = { "If-None-Match": etag, "Cache-Control": "no-cache", Pragma: "no-cache" };
    const again = await request(path, { headers: revalidation });
    expect(again.status).toBe(304);
    expect(again.headers.get("ETag")).toBe(etag);
    expect(again.headers.get("Cache-Status")).toMatch(/^tributary; fwd=request/);
    expect(await calls()).toBe(2);
    // The refetched body differs in bytes (its cursors carry the new fetch time) but not in content, and keeps the tag.
    vi.setSystemTime(Date.now() + 5_000);
    const refetched = await get(path, { "Cache-Control": "no-cache" });
    expect(refetched.res.headers.get("ETag")).toBe(etag);
    expect(refetched.body?.data).toEqual(first.body?.data);
    expect(JSON.stringify(refetched.body)).not.toBe(JSON.stringify(first.body));
  });

  it("a revalidation after the upstream changed is a 200 with a new ETag", async () => {
    const first = await get(path);
    const etag = first.res.headers.get("ETag") as string;
    await inkitSim.insert({ kind: "run", count: 1 });
    const again = await get(path, { "If-None-Match": etag, "Cache-Control": "no-cache", Pragma: "no-cache" });
    expect(again.res.status).toBe(200);
    expect(again.res.headers.get("ETag")).not.toBe(etag);
    expect(again.body?.data[1]?.id).toBe(first.body?.data[0]?.id);
  });

  it("the ETag of a page changes with its cursors' positions and with the half-lifetime epoch of its snapshot", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const halfLife = 43_200_000; // CURSOR_TTL_SECONDS defaults to 24 h
    vi.setSystemTime((Math.floor(Date.now() / halfLife) + 1) * halfLife + 60_000);
    const first = await get(path);
    const etag = first.res.headers.get("ETag") as string;
    const second = await get(`/v1/inkit/runs?cursor=${encodeURIComponent(first.body?.page.next_cursor as string)}`);
    expect(second.res.headers.get("ETag")).not.toBe(etag);
    // Same data, fetched again later in the same epoch: same tag; in the next epoch: a new one, so a client's kept
    // copy never holds cursors with less than half their lifetime left.
    vi.setSystemTime(Date.now() + halfLife / 2);
    const sameEpoch = await get(path, { "If-None-Match": etag, "Cache-Control": "no-cache" });
    expect(sameEpoch.res.status).toBe(304);
    vi.setSystemTime(Date.now() + halfLife / 2);
    const nextEpoch = await get(path, { "If-None-Match": etag, "Cache-Control": "no-cache" });
    expect(nextEpoch.res.status).toBe(200);
    expect(nextEpoch.body?.data).toEqual(first.body?.data);
    expect(nextEpoch.res.headers.get("ETag")).not.toBe(etag);
  });

  it("Cache-Control: no-cache reaches the upstream and refreshes the entry", async () => {
    await get(path);
    await inkitSim.insert({ kind: "run", count: 1 });
    const forced = await get(path, { "Cache-Control": "no-cache" });
    // The key was written under a second ago: the refresh is stored once KV's per-key limit allows.
    expect(forced.res.headers.get("Cache-Status")).toMatch(/^tributary; fwd=request/);
    expect(await calls()).toBe(2);
    const after = await get(path);
    expect(after.res.headers.get("Cache-Status")).toMatch(/hit/);
    expect(after.body).toEqual(forced.body);
    expect(await calls()).toBe(2);
  });

  it("invalidating a tenant's resource makes its entries miss, and only its entries", async () => {
    await get(path);
    await get("/v1/inkit/batches?limit=5");
    await invalidateListings(env, {
      provider: "inkit",
      credential: { value: env.INKIT_API_TOKEN, passThrough: false },
      resource: "inkit:runs",
    });
    expect((await get(path)).res.headers.get("Cache-Status")).toMatch(/fwd=miss/);
    expect((await get("/v1/inkit/batches?limit=5")).res.headers.get("Cache-Status")).toMatch(/hit/);
    expect(await calls()).toBe(3);
  });

  it("concurrent identical misses share one upstream call", async () => {
    await inkitSim.fault({ latency_ms: 200, times: 5 });
    const [a, b, c] = await Promise.all([get(path), get(path), get(path)]);
    expect(a.body).toEqual(b.body);
    expect(b.body).toEqual(c.body);
    expect(await calls()).toBe(1);
  });

  it("a single batch is cached too (item TTL)", async () => {
    const [batch] = (await inkitSim.items({ kind: "document_batch" })).items;
    await get(`/v1/inkit/batches/${batch?.id}`);
    const again = await get(`/v1/inkit/batches/${batch?.id}`);
    expect(again.res.headers.get("Cache-Status")).toMatch(/^tributary; hit; ttl=[0-5]$/);
    expect(await calls()).toBe(1);
  });

  it("a full walk reads each block once, costs nothing the second time, and goes upstream for every page without the cache", async () => {
    const truth = await inkitTruth("workflow_batch");
    // Lanes read aligned blocks of 100; a tie group that two blocks share is read once more, as one response.
    const straddling = tieGroups(truth, (b) => b.created_at).filter((group) => {
      const first = truth.indexOf(group[0] as (typeof truth)[number]);
      return Math.floor(first / 100) !== Math.floor((first + group.length - 1) / 100);
    }).length;
    const first = await walkForward("/v1/inkit/workflow-batches", 25);
    expect(first.ids).toEqual(truth.map((b) => b.id));
    const afterFirst = await calls();
    expect(afterFirst).toBe(Math.ceil(truth.length / 100) + straddling);
    const second = await walkForward("/v1/inkit/workflow-batches", 25);
    expect(second.ids).toEqual(first.ids);
    expect(await calls()).toBe(afterFirst);
    const uncached = await walkForward("/v1/inkit/workflow-batches", 25, { headers: { "Cache-Control": "no-cache" } });
    expect(await calls()).toBeGreaterThanOrEqual(afterFirst + uncached.pages.length);
  });
});
