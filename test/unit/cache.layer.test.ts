import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { CacheOutcome } from "../../src/cache/request-cache";
import type { AppEnv } from "../../src/http/app-env";
import { cacheStatus, freshFor, freshnessHeaders, VARY } from "../../src/http/caching/freshness";
import { cacheDirectives } from "../../src/http/caching/listing-cache";
import { notModified, notModifiedResponse } from "../../src/http/caching/not-modified";
import { readyPageHeaders } from "../../src/http/caching/ready-pages";
import { servedBody } from "../../src/http/caching/served-body";
import { listResponse } from "../../src/http/list-response";
import { passThroughHeaders } from "../../src/providers/credentials";

const outcome = (status: CacheOutcome["status"], ttl: number, more: Partial<CacheOutcome> = {}): CacheOutcome => ({
  status,
  ttl,
  age: 0,
  stored: false,
  fetchedAt: 0,
  ...more,
});

describe("cacheDirectives", () => {
  it.each([
    [undefined, { store: true, bypass: false }],
    ["", { store: true, bypass: false }],
    ["max-age=0", { store: true, bypass: false }],
    ["no-cache", { store: true, bypass: true }],
    ["No-Cache", { store: true, bypass: true }],
    ["max-age=0, no-cache", { store: true, bypass: true }],
    ["no-store", { store: false, bypass: true }],
    ["no-cache,no-store", { store: false, bypass: true }],
    ["no-cache-please", { store: true, bypass: false }],
    ['x="no-store"', { store: true, bypass: false }],
  ])("%j asks for %j", (header, expected) => {
    expect(cacheDirectives(header)).toEqual(expected);
  });
});

describe("freshness headers", () => {
  it.each([
    [[outcome("hit", 30)], "tributary; hit; ttl=30"],
    [[outcome("hit", 30), outcome("hit", 10)], "tributary; hit; ttl=10"],
    [[outcome("hit", 30), outcome("stale", -5)], "tributary; hit; ttl=-5; detail=stale"],
    [[outcome("hit", 30), outcome("miss", 60, { stored: true })], "tributary; fwd=miss; stored; ttl=30"],
    [[outcome("bypass", 60), outcome("miss", 60)], "tributary; fwd=request; ttl=60"],
    [[outcome("miss", 60), outcome("error", 0)], "tributary; fwd=miss; detail=cache-unavailable"],
  ])("Cache-Status of %j is %s", (outcomes, expected) => {
    expect(cacheStatus(outcomes)).toBe(expected);
  });

  it("an answer stays fresh as long as its least fresh read, never less than 0 s", () => {
    expect(freshFor([outcome("hit", 30), outcome("miss", 60)])).toBe(30);
    expect(freshFor([outcome("stale", -5)])).toBe(0);
  });

  it("an answer built from reads says their status, the oldest age and the shortest freshness", () => {
    expect(freshnessHeaders([outcome("hit", 30, { age: 4 }), outcome("miss", 60, { age: 1 })])).toEqual({
      "Cache-Status": "tributary; fwd=miss; ttl=30",
      Age: "4",
      "Cache-Control": "private, max-age=30",
    });
  });

  it("an answer that read nothing upstream is not to be reused unchecked", () => {
    expect(freshnessHeaders([])).toEqual({ "Cache-Control": "private, no-cache" });
  });

  it("Vary names the caller and the catalog's pass-through credential headers", () => {
    expect(VARY).toBe(`Authorization, ${passThroughHeaders.inkit}, ${passThroughHeaders["8x8"]}`);
    expect(VARY).toBe("Authorization, X-Inkit-API-Token, X-8x8-Api-Key");
  });
});

describe("readyPageHeaders", () => {
  const page = { body: "{}", etag: 'W/"t"', fetchedAt: 1_000, freshUntil: 31_000, generations: [] };

  it("sends a ready page again with its tag, its link, and what is left of its freshness", () => {
    expect(readyPageHeaders({ ...page, link: '<x>; rel="next"' }, 10_500)).toEqual({
      ETag: 'W/"t"',
      Link: '<x>; rel="next"',
      Vary: VARY,
      "Cache-Status": "tributary; hit; ttl=20",
      Age: "9",
      "Cache-Control": "private, max-age=20",
    });
  });

  it("has no Link without one, and never a negative age or freshness", () => {
    const headers = readyPageHeaders({ ...page, link: null }, 500);
    expect(headers.Link).toBeUndefined();
    expect(headers.Age).toBe("0");
    expect(readyPageHeaders({ ...page, link: null }, 40_000)["Cache-Control"]).toBe("private, max-age=0");
  });
});

describe("notModified", () => {
  const app = new Hono<AppEnv>();
  app.use(notModified);
  app.get("/tagged", (c) => c.json({ a: 1 }, 200, { ETag: 'W/"abc"', "Cache-Control": "private, max-age=5" }));
  app.get("/untagged", (c) => c.json({ a: 1 }));
  app.get("/missing", (c) => c.json({ a: 1 }, 404, { ETag: '"abc"' }));
  app.post("/tagged", (c) => c.json({ a: 1 }, 200, { ETag: '"abc"' }));

  it.each([
    ["GET", "/tagged", '"abc"', 304],
    ["GET", "/tagged", 'W/"abc"', 304],
    ["GET", "/tagged", '"x", "abc"', 304],
    ["GET", "/tagged", "*", 304],
    ["GET", "/tagged", '"other"', 200],
    ["GET", "/tagged", undefined, 200],
    ["GET", "/untagged", "*", 200],
    ["GET", "/missing", '"abc"', 404],
    ["POST", "/tagged", '"abc"', 200],
  ])("%s %s with If-None-Match %s is a %i", async (method, path, ifNoneMatch, status) => {
    const res = await app.request(path, { method, headers: ifNoneMatch ? { "If-None-Match": ifNoneMatch } : {} });
    expect(res.status).toBe(status);
  });

  it("a 304 keeps every header but Content-Type, and has no body", async () => {
    const res = await app.request("/tagged", { headers: { "If-None-Match": '"abc"' } });
    expect(Object.fromEntries(res.headers)).toEqual({ etag: 'W/"abc"', "cache-control": "private, max-age=5" });
    expect(await res.text()).toBe("");
    const direct = notModifiedResponse(new Headers({ "Content-Type": "application/json", ETag: '"t"' }));
    expect([direct.status, [...direct.headers]]).toEqual([304, [["etag", '"t"']]]);
  });
});

describe("servedBody", () => {
  it("takes a list page's body as handed over, parts and all, without a copy", async () => {
    const app = new Hono<AppEnv>();
    let same = false;
    let parts: unknown;
    app.use(async (c, next) => {
      await next();
      const before = c.res;
      const served = await servedBody(c);
      same = c.res === before && served.response === before;
      parts = served.parts;
    });
    app.get("/", (c) => listResponse(c, { body: { data: [1], page: { limit: 1 } }, headers: {} }));
    await app.request("/");
    expect(same).toBe(true);
    expect(parts).toEqual({ head: '{"data":[1],"page":', page: '{"limit":1}' });
  });

  it("reads any other body once, into a copy with the same status and headers that takes the response's place", async () => {
    const app = new Hono<AppEnv>();
    const seen: unknown[] = [];
    app.use(async (c, next) => {
      await next();
      const first = await servedBody(c);
      const again = await servedBody(c);
      c.res.headers.set("X-Set-After", "yes");
      seen.push(first.text, first === again || first.response === again.response, first.response === c.res);
    });
    app.get("/", (c) => c.json({ one: 1 }, 200, { "X-Route": "r" }));
    const res = await app.request("/");
    expect(seen).toEqual(['{"one":1}', true, true]);
    expect(await res.text()).toBe('{"one":1}');
    expect(res.headers.get("X-Route")).toBe("r");
    expect(res.headers.get("X-Set-After")).toBe("yes");
    expect(res.headers.get("Content-Type")).toBe("application/json");
  });
});
