import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { eventBody } from "../../src/events/model";
import { recordAndQueue } from "../../src/events/record";
import type { EventRow } from "../../src/events/store";
import { pruneExpired } from "../../src/scheduled";
import type { EventType } from "../../src/schemas/events";
import type { Run } from "../../src/schemas/run";
import { sha256Hex } from "../../src/shared/digest";
import { newId } from "../../src/shared/ids";
import { isoMicros } from "../../src/shared/time";
import { TEST_API_KEY, TEST_API_KEY_2 } from "../setup/bindings";
import { expectDeclaredSuccess } from "../support/contract";
import { expectProblem } from "../support/problem";
import { callApp, callAppJson, resetWebhookStore, type WebhookEnv, webhookEnv } from "../support/webhooks";

// GET /v1/event-stream: a tenant's events oldest first in commit order. Events are recorded here through
// recordAndQueue, the one way detection and pings record them, with crafted times: a later transaction may carry an
// earlier created_at, as a slow concurrent detection does.

interface StreamBody {
  data: { id: string; type: string; source: string | null; created_at: string }[];
  page: { limit: number; has_more: boolean; next_cursor: string; prev_cursor: null; total: null };
}

const DAY = 86_400_000;
const tenantOf = async (key: string) => (await sha256Hex(key)).slice(0, 32);
let runs: Run[] = [];
let tenant = "";
let tenant2 = "";
let w: WebhookEnv;
let sequence = 0;

/** An event of `tenant` as detection would record it, created `ageMs` ago (its id minted then too). */
function event(owner: string, opts: { ageMs?: number; type?: EventType; source?: string | null } = {}): EventRow {
  const at = Date.now() - (opts.ageMs ?? 60_000);
  const createdAt = isoMicros(at);
  const type = opts.type ?? "run.created";
  const object = runs[sequence % runs.length] as Run;
  const n = ++sequence;
  return {
    id: newId("evt", at),
    tenant: owner,
    type,
    source: opts.source === undefined ? "inkit:runs" : opts.source,
    object_id: object.id,
    created_at: createdAt,
    sequence: n,
    payload: eventBody(type, createdAt, object, null, n),
  };
}

/** Commits events in one transaction, in this order. */
const commit = (...events: EventRow[]) => recordAndQueue(w.env, { events, now: isoMicros(Date.now()) });

/** One read of the stream; a 200's body is checked against the declared schema. */
async function read(query: Record<string, string>, init: { auth?: string; headers?: Record<string, string> } = {}) {
  const url = `/v1/event-stream?${new URLSearchParams(query)}`;
  const res = await callApp(w, url, init);
  if (res.status === 200) await expectDeclaredSuccess("GET", url, res.clone());
  return res;
}

async function page(query: Record<string, string>, auth?: string) {
  const res = await read(query, auth ? { auth } : {});
  expect(res.status, await res.clone().text()).toBe(200);
  return { res, body: (await res.json()) as StreamBody };
}

/** Reads until the end of the stream; returns the ids read, the cursor to poll with, and the pages. */
async function toEnd(start: Record<string, string>, auth?: string) {
  const ids: string[] = [];
  let query = start;
  for (let pages = 1; ; pages++) {
    const { res, body } = await page(query, auth);
    ids.push(...body.data.map((e) => e.id));
    if (!body.page.has_more) return { ids, cursor: body.page.next_cursor, pages, res };
    query = { cursor: body.page.next_cursor };
  }
}

beforeAll(async () => {
  w = webhookEnv();
  const { body } = await callAppJson<{ data: Run[] }>(w, "/v1/inkit/runs?limit=5");
  runs = body.data;
  tenant = await tenantOf(TEST_API_KEY);
  tenant2 = await tenantOf(TEST_API_KEY_2);
});

beforeEach(async () => {
  await resetWebhookStore();
  w = webhookEnv();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("order and resumption", () => {
  it("serves the caller's events oldest first in commit order, paged by limit, the cursor never null", async () => {
    const batches = [[event(tenant), event(tenant), event(tenant)], [event(tenant), event(tenant)], [event(tenant)]];
    for (const batch of batches) await commit(...batch);
    const committed = batches.flat().map((e) => e.id);

    const first = await page({ limit: "4" });
    expect(first.body.data.map((e) => e.id)).toEqual(committed.slice(0, 4));
    expect(first.body.page).toMatchObject({ limit: 4, has_more: true, prev_cursor: null, total: null });
    expect(first.res.headers.get("Retry-After")).toBeNull();
    expect(first.res.headers.get("Link")).toContain('rel="next"');

    // The cursor carries the limit: the next page has the same size.
    const second = await page({ cursor: first.body.page.next_cursor });
    expect(second.body.data.map((e) => e.id)).toEqual(committed.slice(4));
    expect(second.body.page).toMatchObject({ limit: 4, has_more: false, prev_cursor: null, total: null });
    expect(second.body.page.next_cursor).toEqual(expect.any(String));
    expect(second.res.headers.get("Retry-After")).toBe("30");

    const walked = await toEnd({ limit: "1" });
    expect(walked.ids).toEqual(committed);
    // The page holding the last event already says has_more: false (the read looks one event ahead).
    expect(walked.pages).toBe(committed.length);
  });

  it("resuming sees exactly what was committed later, once: also a late commit with an earlier created_at", async () => {
    const early = [event(tenant, { ageMs: 10_000 }), event(tenant, { ageMs: 9_000 })];
    await commit(...early);
    const start = await toEnd({});
    expect(start.ids).toEqual(early.map((e) => e.id));

    // A slow detection minted this event (id and created_at) before the others, and commits only now.
    const late = event(tenant, { ageMs: 30_000 });
    const after = event(tenant, { ageMs: 1_000 });
    await commit(late);
    await commit(after);
    // A walker by creation time would have passed it: it sorts below what was already read.
    const log = await callAppJson<StreamBody>(w, "/v1/events?limit=10");
    expect(log.body.data.map((e) => e.id).at(-1)).toBe(late.id);

    const resumed = await toEnd({ cursor: start.cursor });
    expect(resumed.ids).toEqual([late.id, after.id]);
    // And nothing again from where that left off.
    const again = await page({ cursor: resumed.cursor });
    expect(again.body.data).toEqual([]);
    expect(again.body.page.has_more).toBe(false);
  });

  it("interleaved commits and polls: every event read exactly once, in commit order", async () => {
    const committed: string[] = [];
    const read: string[] = [];
    let cursor: string | undefined;
    for (let round = 0; round < 8; round++) {
      // Each transaction's events carry times older than anything already read.
      const batch = Array.from({ length: round % 3 }, (_, i) => event(tenant, { ageMs: (100 - round) * 60_000 + i }));
      await commit(...batch);
      committed.push(...batch.map((e) => e.id));
      const polled = await toEnd(cursor ? { cursor, limit: "2" } : { limit: "2" });
      read.push(...polled.ids);
      cursor = polled.cursor;
    }
    expect(read).toEqual(committed);
    expect(new Set(read).size).toBe(read.length);
  });

  it("the end of the stream is polled with its cursor and Retry-After (EVENT_STREAM_POLL_SECONDS); 304 while quiet", async () => {
    w = webhookEnv({ EVENT_STREAM_POLL_SECONDS: "7" });
    const empty = await page({});
    expect(empty.body).toMatchObject({ data: [], page: { has_more: false, next_cursor: expect.any(String) } });
    expect(empty.res.headers.get("Retry-After")).toBe("7");

    const quiet = await read(
      { cursor: empty.body.page.next_cursor },
      { headers: { "If-None-Match": empty.res.headers.get("ETag") ?? "" } },
    );
    expect(quiet.status).toBe(304);
    expect(quiet.headers.get("Retry-After")).toBe("7");

    const e = event(tenant);
    await commit(e);
    const news = await page({ cursor: empty.body.page.next_cursor });
    expect(news.body.data.map((x) => x.id)).toEqual([e.id]);
  });

  it("a cursor outlives the list cursors' CURSOR_TTL_SECONDS: a consumer may come back days later", async () => {
    w = webhookEnv({ CURSOR_TTL_SECONDS: "60" });
    await commit(event(tenant));
    const { cursor } = await toEnd({});
    const e = event(tenant);
    await commit(e);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3 * DAY);
    expect((await page({ cursor })).body.data.map((x) => x.id)).toEqual([e.id]);
  });
});

describe("filters and start", () => {
  it("filters by type and by source (any accepted spelling); the cursor carries them", async () => {
    const a = event(tenant, { type: "run.completed" });
    const b = event(tenant, { type: "run.created", source: "inkit:batches" });
    const c = event(tenant, { type: "run.completed", source: "inkit:batches" });
    const ping = event(tenant, { type: "ping", source: null });
    await commit(a, b, c, ping);

    expect((await toEnd({ type: "run.completed" })).ids).toEqual([a.id, c.id]);
    expect((await toEnd({ source: "inkit:batches" })).ids).toEqual([b.id, c.id]);
    expect((await toEnd({ source: "inkit" })).ids).toEqual([a.id]);
    expect((await toEnd({ type: "ping" })).ids).toEqual([ping.id]);

    const first = await page({ type: "run.completed", limit: "1" });
    const d = event(tenant, { type: "run.created" });
    const e = event(tenant, { type: "run.completed" });
    await commit(d, e);
    // Omitted on later requests, the filters come from the cursor; sent again, they must match.
    expect((await toEnd({ cursor: first.body.page.next_cursor })).ids).toEqual([c.id, e.id]);
    expect((await toEnd({ cursor: first.body.page.next_cursor, type: "run.completed" })).ids).toEqual([c.id, e.id]);
  });

  it("since starts at the first event created at or after it; without it, at the oldest event kept", async () => {
    const old = event(tenant, { ageMs: 3 * 3_600_000 });
    const mid = event(tenant, { ageMs: 2 * 3_600_000 });
    const recent = event(tenant, { ageMs: 3_600_000 });
    await commit(old, mid, recent);
    const since = isoMicros(Date.now() - 2.5 * 3_600_000);
    expect((await toEnd({ since })).ids).toEqual([mid.id, recent.id]);
    expect((await toEnd({ since: since.replace(/\.\d+Z$/, "+00:00") })).ids).toEqual([mid.id, recent.id]);
    expect((await toEnd({})).ids).toEqual([old.id, mid.id, recent.id]);

    // Nothing at or after it yet: the stream starts at its end, and sees what comes next.
    const future = await toEnd({ since: isoMicros(Date.now() + DAY) });
    expect(future.ids).toEqual([]);
    const next = event(tenant);
    await commit(next);
    expect((await toEnd({ cursor: future.cursor })).ids).toEqual([next.id]);
  });
});

describe("cursor binding and problems", () => {
  it("a cursor is bound to its API key and its filters; tampering, list cursors and since with a cursor are 400s", async () => {
    await commit(event(tenant, { type: "run.completed" }), event(tenant));
    const { body } = await page({ type: "run.completed" });
    const cursor = body.page.next_cursor;

    const foreign = await expectProblem(await read({ cursor }, { auth: TEST_API_KEY_2 }), 400, "invalid-cursor");
    expect(foreign.detail).toContain("another API key");
    const other = await expectProblem(await read({ cursor, type: "run.created" }), 400, "invalid-cursor");
    expect(other.errors).toEqual([{ in: "cursor", name: "type", message: expect.any(String) }]);
    await expectProblem(await read({ cursor, source: "inkit:runs" }), 400, "invalid-cursor");

    const [kid, payload, tag] = cursor.split(".") as [string, string, string];
    const flipped = `${kid}.${payload.slice(0, -1)}${payload.endsWith("A") ? "B" : "A"}.${tag}`;
    await expectProblem(await read({ cursor: flipped }), 400, "invalid-cursor");

    const list = await callAppJson<StreamBody>(w, "/v1/events?limit=1");
    const listCursor = list.body.page.next_cursor;
    await expectProblem(await read({ cursor: listCursor }), 400, "invalid-cursor");
    // And the other way round: a list route takes no stream cursor.
    await expectProblem(await callApp(w, `/v1/events?cursor=${encodeURIComponent(cursor)}`), 400, "invalid-cursor");

    const both = await expectProblem(await read({ cursor, since: "2026-01-01T00:00:00Z" }), 400, "validation-error");
    expect(both.errors?.map((e) => e.name)).toEqual(["since"]);
    const invalid: Record<string, string>[] = [
      { limit: "0" },
      { limit: "501" },
      { since: "yesterday" },
      { type: "run.exploded" },
    ];
    for (const bad of invalid) {
      await expectProblem(await read(bad), 400, "validation-error");
    }
  });

  it("keeps tenants apart: each key reads only its own events", async () => {
    const mine = event(tenant);
    const theirs = event(tenant2);
    await commit(mine, theirs, event(tenant2));
    expect((await toEnd({})).ids).toEqual([mine.id]);
    expect((await toEnd({}, TEST_API_KEY_2)).ids).toEqual([theirs.id, expect.any(String)]);
  });

  it("a position older than retention is a 410 naming WEBHOOK_RETENTION_DAYS and the since to restart with", async () => {
    const expired = [event(tenant, { ageMs: 40 * DAY }), event(tenant, { ageMs: 39 * DAY })];
    const kept = event(tenant, { ageMs: DAY });
    await commit(...expired);
    await commit(kept);
    const behind = (await page({ limit: "1" })).body.page.next_cursor;
    const caughtUp = (await toEnd({})).cursor;

    await pruneExpired(w.env);
    const res = await read({ cursor: behind });
    const problem = await expectProblem(res, 410, "stream-position-expired");
    expect(problem.detail).toContain("WEBHOOK_RETENTION_DAYS = 30 days");
    expect(problem.detail).toContain(`since=${kept.created_at}`);
    expect(problem).toMatchObject({ since: kept.created_at, retention_days: 30 });

    // Restarting as it says reads what is kept; a cursor past the pruned events was never at risk.
    expect((await toEnd({ since: problem.since as string })).ids).toEqual([kept.id]);
    expect((await page({ cursor: caughtUp })).body.data).toEqual([]);
    const type = await callAppJson(w, "/problems/stream-position-expired", { auth: false });
    expect(type.body).toEqual({
      type: "/problems/stream-position-expired",
      title: expect.any(String),
      status: 410,
    });
  });

  it("a quiet consumer's cursor keeps up with the stream: other tenants' expired events do not expire it", async () => {
    await commit(event(tenant, { ageMs: 40 * DAY }), event(tenant, { ageMs: 40 * DAY }));
    const quiet = await toEnd({}, TEST_API_KEY_2);
    expect(quiet.ids).toEqual([]);
    await pruneExpired(w.env);
    const mine = event(tenant2);
    await commit(mine);
    expect((await toEnd({ cursor: quiet.cursor }, TEST_API_KEY_2)).ids).toEqual([mine.id]);
  });
});
