// Saved feeds: a set of merged-feed sources saved once (POST /v1/feeds) and walked by id (GET /v1/runs?feed=…), so
// naming many sources needs neither a long URL nor a long cursor.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { FeedSchema } from "../../src/schemas/feed";
import { MAX_INLINE_SOURCES, MAX_SAVED_FEED_SOURCES } from "../../src/schemas/sources";
import { TEST_API_KEY_2 } from "../setup/bindings";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, mutationsOf, resetSimulators } from "../support/simulator";
import { mergeTruth, normalizeTimestamp, type TruthItem } from "../support/truth";
import { type PageBody, walkBackward, walkForward } from "../support/walk";
import { resetWebhookStore } from "../support/webhooks";
import { call, callJson, request } from "../support/worker";

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const FOUR = [
  "inkit",
  `8x8:acme-ops/${defs.orderNotifications}`,
  `8x8:acme-ops/${defs.smsKeywordRouter}`,
  `8x8:acme-ops/${defs.appointmentReminders}`,
];

interface Feed {
  id: string;
  description: string | null;
  sources: string[];
  created_at: string;
}

async function saveFeed(json: unknown, init: { auth?: string; headers?: Record<string, string> } = {}) {
  const { res, body } = await callJson<Feed>("/v1/feeds", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...init.headers },
    body: JSON.stringify(json),
    ...(init.auth ? { auth: init.auth } : {}),
  });
  expect(res.status, JSON.stringify(body)).toBe(201);
  return { res, feed: body };
}

const inline = (sources: readonly string[]) => sources.map((s) => `source=${encodeURIComponent(s)}`).join("&");

/** What a cursor carries (its payload, decoded): the walk's filters `f` among the rest. */
function cursorPayload(cursor: string): { f: Record<string, unknown> } {
  const body = cursor.split(".")[1] as string;
  const bytes = Uint8Array.from(atob(body.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
  // Format 3: a marker byte (3), the JSON part's length as a varint, the JSON, then the packed lanes.
  if (bytes[0] !== 3) return JSON.parse(new TextDecoder().decode(bytes)) as { f: Record<string, unknown> };
  let size = 0;
  let i = 1;
  for (let scale = 1; ; scale *= 128) {
    const b = bytes[i++] as number;
    size += (b & 0x7f) * scale;
    if (b < 0x80) break;
  }
  return JSON.parse(new TextDecoder().decode(bytes.subarray(i, i + size))) as { f: Record<string, unknown> };
}

const mutate = mutationsOf(eightByEightSim);

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

describe("saved feeds: create, read, list, delete", () => {
  it("201 with a Location; sources canonical (8x8 ids lower-cased), each once, in the order given", async () => {
    const { res, feed } = await saveFeed({
      sources: [
        `8x8:acme-ops/${defs.orderNotifications.toUpperCase()}`,
        "inkit",
        `8x8:acme-ops/${defs.orderNotifications}`,
      ],
      description: "orders and Inkit",
    });
    expect(feed.id).toMatch(/^feed_[0-9A-Z]{26}$/);
    expect(res.headers.get("Location")).toBe(`/v1/feeds/${feed.id}`);
    expect(feed).toMatchObject({
      sources: [`8x8:acme-ops/${defs.orderNotifications}`, "inkit"],
      description: "orders and Inkit",
    });
    FeedSchema.parse(feed);
    const got = await callJson<Feed>(`/v1/feeds/${feed.id}`);
    expect(got.res.status).toBe(200);
    expect(got.body).toEqual(feed);
    expect(got.res.headers.get("ETag")).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await saveFeed({ sources: ["inkit"] })).feed.description).toBeNull();
  });

  it("GET /v1/feeds lists the key's feeds newest first, cursor-paged like every list", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await saveFeed({ sources: FOUR.slice(0, 1 + (i % 4)) })).feed.id);
    const walk = await walkForward("/v1/feeds", 2);
    expect(walk.ids).toEqual([...ids].reverse());
    for (const page of walk.pages) for (const feed of page.data) FeedSchema.parse(feed);
  });

  it("DELETE honours If-Match (a stale or foreign tag is a 412, the current one deletes); then every read is a 404", async () => {
    const { feed } = await saveFeed({ sources: FOUR });
    const etag = (await call(`/v1/feeds/${feed.id}`)).headers.get("ETag") as string;
    const stale = await call(`/v1/feeds/${feed.id}`, { method: "DELETE", headers: { "If-Match": '"0123"' } });
    const problem = await expectProblem(stale, 412, "precondition-failed");
    expect(problem.etag).toBe(etag);
    const deleted = await call(`/v1/feeds/${feed.id}`, { method: "DELETE", headers: { "If-Match": etag } });
    expect(deleted.status).toBe(204);
    await expectProblem(await call(`/v1/feeds/${feed.id}`), 404, "not-found");
    await expectProblem(await call(`/v1/feeds/${feed.id}`, { method: "DELETE" }), 404, "not-found");
    expect((await callJson<PageBody>("/v1/feeds")).body.data).toEqual([]);
  });

  it("feeds are immutable: no PATCH", async () => {
    const { feed } = await saveFeed({ sources: ["inkit"] });
    const res = await call(`/v1/feeds/${feed.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sources: FOUR }),
    });
    await expectProblem(res, 405, "method-not-allowed");
    expect((await callJson<Feed>(`/v1/feeds/${feed.id}`)).body.sources).toEqual(["inkit"]);
  });

  it(`validation: 1 to ${MAX_SAVED_FEED_SOURCES} feed sources, no unknown field; each problem names the field`, async () => {
    const cases: [unknown, string][] = [
      [{}, "sources"],
      [{ sources: [] }, "sources"],
      [{ sources: ["inkit:runs"] }, "sources.0"],
      [{ sources: ["inkit", "8x8:acme-ops/not-a-uuid"] }, "sources.1"],
      [{ sources: Array.from({ length: MAX_SAVED_FEED_SOURCES + 1 }, () => "inkit") }, "sources"],
      [{ sources: ["inkit"], description: "x".repeat(501) }, "description"],
      [{ sources: ["inkit"], colour: "red" }, "colour"],
    ];
    for (const [json, field] of cases) {
      const res = await call("/v1/feeds", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(json),
      });
      const problem = await expectProblem(res, 400, "validation-error");
      expect(
        problem.errors?.map((e) => e.name),
        JSON.stringify(json).slice(0, 80),
      ).toContain(field);
    }
  });

  it(`saves up to ${MAX_SAVED_FEED_SOURCES} sources, named by a short URL; its first page reads each once, so under the free plan's subrequest limit it is a 400 naming feed`, async () => {
    const { definitions } = await mutate.addDefinitions({ count: MAX_SAVED_FEED_SOURCES - 1 });
    const sources = ["inkit", ...definitions.map((d) => `8x8:acme-ops/${d.id}`)];
    const { feed } = await saveFeed({ sources });
    expect(feed.sources).toHaveLength(MAX_SAVED_FEED_SOURCES);
    const url = `/v1/runs?feed=${feed.id}`;
    console.log(
      `[feeds] first request of a ${sources.length}-source feed: ${url.length} bytes with feed=, ${`/v1/runs?${inline(sources)}`.length} with source=`,
    );
    expect(url.length).toBeLessThan(100);
    // The default SUBREQUEST_LIMIT is the free plan's 50: a first page of 100 sources would exceed it.
    const problem = await expectProblem(await call(url), 400, "subrequest-limit");
    expect(problem.errors?.map((e) => e.name)).toEqual(["feed"]);
    expect(problem.detail).toContain("SUBREQUEST_LIMIT");
    // Raised (a paid plan: its subrequests, and its CPU for the sources a first page reads), the same request is a page.
    const page = await request(url, { env: { SUBREQUEST_LIMIT: "1000", FEED_FIRST_PAGE_SOURCES: "100" } });
    expect(page.status).toBe(200);
    expect(((await page.json()) as PageBody).data.length).toBeGreaterThan(0);
  });

  it("a first page of more sources than FEED_FIRST_PAGE_SOURCES (20: the free plan's CPU) is a 400 naming it; 20 is a page", async () => {
    const { definitions } = await mutate.addDefinitions({ count: 20 });
    const sources = ["inkit", ...definitions.map((d) => `8x8:acme-ops/${d.id}`)];
    const { feed: over } = await saveFeed({ sources });
    await Promise.all([inkitSim.clearCounters(), eightByEightSim.clearCounters()]);
    const problem = await expectProblem(await call(`/v1/runs?feed=${over.id}`), 400, "too-many-sources");
    expect(problem.errors?.map((e) => e.name)).toEqual(["feed"]);
    expect(problem.detail).toMatch(/21 sources.*at most 20.*FEED_FIRST_PAGE_SOURCES/);
    // Refused before any upstream call.
    const calls = await Promise.all([inkitSim.counters(), eightByEightSim.counters()]);
    expect(calls.map((c) => c.total)).toEqual([0, 0]);
    const { feed } = await saveFeed({ sources: sources.slice(0, 20) });
    const page = await call(`/v1/runs?feed=${feed.id}`);
    expect(page.status).toBe(200);
    // Raised, the 21-source feed is a page too.
    expect((await request(`/v1/runs?feed=${over.id}`, { env: { FEED_FIRST_PAGE_SOURCES: "21" } })).status).toBe(200);
  });

  it(`names at most ${MAX_INLINE_SOURCES} sources inline (source=); more is a 400 pointing to saved feeds`, async () => {
    const { definitions } = await mutate.addDefinitions({ count: MAX_INLINE_SOURCES });
    const sources = ["inkit", ...definitions.map((d) => `8x8:acme-ops/${d.id}`)];
    const problem = await expectProblem(await call(`/v1/runs?${inline(sources)}`), 400, "validation-error");
    expect(problem.errors?.map((e) => e.name)).toEqual(["source"]);
    expect(problem.detail).toContain("/v1/feeds");
    const ok = await call(`/v1/runs?${inline(sources.slice(0, MAX_INLINE_SOURCES))}`);
    expect(ok.status).toBe(200);
  });

  it("Idempotency-Key: a repeat replays the first answer (one feed saved); the key with another body is a 422", async () => {
    const headers = { "Idempotency-Key": "feed-key-1" };
    const first = await saveFeed({ sources: FOUR }, { headers });
    const again = await saveFeed({ sources: FOUR }, { headers });
    expect(again.feed).toEqual(first.feed);
    expect(again.res.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.res.headers.get("Location")).toBe(`/v1/feeds/${first.feed.id}`);
    const rows = await env.DB.prepare("SELECT id FROM feeds").all<{ id: string }>();
    expect(rows.results.map((r) => r.id)).toEqual([first.feed.id]);
    const reused = await call("/v1/feeds", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify({ sources: ["inkit"] }),
    });
    await expectProblem(reused, 422, "idempotency-key-reused");
  });

  it("owned by the creating API key: another key gets 404s (read, delete, walk) and does not list it", async () => {
    const { feed } = await saveFeed({ sources: FOUR });
    const other = { auth: TEST_API_KEY_2 };
    await expectProblem(await call(`/v1/feeds/${feed.id}`, other), 404, "not-found");
    await expectProblem(await call(`/v1/feeds/${feed.id}`, { ...other, method: "DELETE" }), 404, "not-found");
    await expectProblem(await call(`/v1/runs?feed=${feed.id}`, other), 404, "not-found");
    expect((await callJson<PageBody>("/v1/feeds", other)).body.data).toEqual([]);
    expect((await callJson<Feed>(`/v1/feeds/${feed.id}`)).res.status).toBe(200);
  });
});

describe("GET /v1/runs?feed=…", () => {
  it("a walk over a saved feed of 4 sources equals the walk over the same sources inline: same runs, same order", async () => {
    const { feed } = await saveFeed({ sources: FOUR });
    const inlineWalk = await walkForward(`/v1/runs?${inline(FOUR)}`, 200);
    // Later pages send only the cursor: it knows the feed.
    const feedWalk = await walkForward(`/v1/runs?feed=${feed.id}`, 200);
    expect(feedWalk.ids).toEqual(inlineWalk.ids);
    expect(feedWalk.ids.length).toBe(3000 + 1300 + 400 + 60);
    expect(feedWalk.pages.map((p) => p.page.total)).toEqual(inlineWalk.pages.map((p) => p.page.total));
    // And backward from the last page, with prev_cursor.
    const back = async (walk: typeof feedWalk) =>
      (await walkBackward("/v1/runs", walk.pages.at(-1)?.page.prev_cursor as string)).flatMap((p) =>
        p.data.map((r) => r.id),
      );
    expect(await back(feedWalk)).toEqual(await back(inlineWalk));
  });

  it(`the cursor carries the feed's id and a digest of its sources, not the sources: smaller than inline at ${MAX_INLINE_SOURCES} sources`, async () => {
    const { definitions } = await mutate.addDefinitions({ count: MAX_INLINE_SOURCES - 1, instances: 20 });
    const sources = ["inkit", ...definitions.map((d) => `8x8:acme-ops/${d.id}`)];
    const { feed } = await saveFeed({ sources });
    const byFeed = (await callJson<PageBody>(`/v1/runs?feed=${feed.id}&limit=50`)).body.page;
    const byInline = (await callJson<PageBody>(`/v1/runs?${inline(sources)}&limit=50`)).body.page;
    const cursor = byFeed.next_cursor as string;
    const second = (await callJson<PageBody>(`/v1/runs?cursor=${encodeURIComponent(cursor)}`)).body.page;
    const later = second.next_cursor as string;
    const { f } = cursorPayload(later);
    expect(f.feed).toBe(feed.id);
    expect(f.feed_sources).toMatch(/^[0-9a-f]{16}$/);
    expect(f.source).toBeUndefined();
    const sourcesBytes = JSON.stringify(sources).length;
    console.log(
      `[feeds] cursor of a ${sources.length}-source walk: ${cursor.length} bytes (first page), ${later.length} (second) by feed; ${(byInline.next_cursor as string).length} inline (the sources alone are ${sourcesBytes} bytes of JSON)`,
    );
    expect(cursor.length).toBeLessThan((byInline.next_cursor as string).length - sourcesBytes);
    // A few bytes per lane (the engine's part, packed), plus a fixed part that does not grow with the sources.
    expect(cursor.length).toBeLessThanOrEqual(2048);
    expect(later.length).toBeLessThanOrEqual(2048);
  });

  it("a feed of an organisation's sources walks exactly its merged truth, ties across sources and with Inkit included", async () => {
    const { definitions, shared } = await mutate.addDefinitions({ count: MAX_INLINE_SOURCES - 1, instances: 40 });
    expect(shared.some((s) => s.inkitRuns > 0)).toBe(true);
    const sources = ["inkit", ...definitions.map((d) => `8x8:acme-ops/${d.id}`)];
    const { feed } = await saveFeed({ sources });
    const runs = (await inkitSim.items<{ id: string; created_at: string }>({ kind: "run" })).items;
    const lists: TruthItem[][] = [
      runs.map((r) => ({ id: r.id, created_at: normalizeTimestamp(r.created_at), provider: "inkit" })),
    ];
    for (const d of definitions) {
      const { items } = await eightByEightSim.items<{ workflowId: string; startedAt: string }>({ definitionId: d.id });
      lists.push(
        items.map((i) => ({ id: i.workflowId, created_at: normalizeTimestamp(i.startedAt), provider: "8x8" })),
      );
    }
    // Not from the listing cache: the same definition ids, with other instances, may be cached by an earlier test.
    const walk = await walkForward(`/v1/runs?feed=${feed.id}`, 97, { headers: { "Cache-Control": "no-cache" } });
    const truth = mergeTruth(lists).map((i) => i.id);
    expect(walk.ids).toEqual(truth);
  });

  it("later pages may omit feed (the cursor knows it) or send the same one; another feed or source with it is a 400", async () => {
    const { feed } = await saveFeed({ sources: FOUR });
    const { feed: other } = await saveFeed({ sources: FOUR });
    const cursor = (await callJson<PageBody>(`/v1/runs?feed=${feed.id}&limit=5`)).body.page.next_cursor as string;
    const c = encodeURIComponent(cursor);
    const omitted = await callJson<PageBody>(`/v1/runs?cursor=${c}`);
    const same = await callJson<PageBody>(`/v1/runs?cursor=${c}&feed=${feed.id}`);
    expect(same.body.data).toEqual(omitted.body.data);
    // Another feed, even with the same sources, is another walk.
    const problem = await expectProblem(await call(`/v1/runs?cursor=${c}&feed=${other.id}`), 400, "invalid-cursor");
    expect(problem.errors?.map((e) => e.name)).toContain("feed");
    await expectProblem(await call(`/v1/runs?cursor=${c}&${inline(FOUR)}`), 400, "invalid-cursor");
    // And an inline walk's cursor does not walk a feed.
    const inlineCursor = (await callJson<PageBody>(`/v1/runs?${inline(FOUR)}&limit=5`)).body.page.next_cursor as string;
    await expectProblem(
      await call(`/v1/runs?cursor=${encodeURIComponent(inlineCursor)}&feed=${feed.id}`),
      400,
      "invalid-cursor",
    );
  });

  it("feed with source is a 400 naming both", async () => {
    const { feed } = await saveFeed({ sources: FOUR });
    const problem = await expectProblem(await call(`/v1/runs?feed=${feed.id}&source=inkit`), 400, "validation-error");
    expect(problem.errors?.map((e) => e.name).sort()).toEqual(["feed", "source"]);
  });

  it("an unknown feed is a 404; a malformed feed id a 400", async () => {
    const problem = await expectProblem(await call("/v1/runs?feed=feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"), 404, "not-found");
    expect(problem.detail).toContain("feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V");
    await expectProblem(await call("/v1/runs?feed=feed%2F..%2Fx"), 400, "validation-error");
  });

  it("a feed walk's cursor after its feed was deleted is a 404 saying so; another key's use of it stays a 400", async () => {
    const { feed } = await saveFeed({ sources: FOUR });
    const page = (await callJson<PageBody>(`/v1/runs?feed=${feed.id}&limit=5`)).body.page;
    const c = encodeURIComponent(page.next_cursor as string);
    expect((await call(`/v1/feeds/${feed.id}`, { method: "DELETE" })).status).toBe(204);
    const gone = await expectProblem(await call(`/v1/runs?cursor=${c}`), 404, "not-found");
    expect(gone.detail).toContain(`${feed.id} this cursor walks no longer exists`);
    await expectProblem(await call(`/v1/runs?cursor=${c}`, { auth: TEST_API_KEY_2 }), 400, "invalid-cursor");
  });

  it("inline source= keeps working as before, cursors and all", async () => {
    const walk = await walkForward(`/v1/runs?${inline(FOUR.slice(0, 2))}`, 500);
    expect(walk.ids.length).toBe(3000 + 1300);
    const { f } = cursorPayload(walk.pages[0]?.page.next_cursor as string);
    expect(f.source).toEqual(FOUR.slice(0, 2));
    expect(f.feed).toBeUndefined();
  });
});
