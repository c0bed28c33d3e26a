// What one check costs in D1 and upstream calls, counted (never timed): a check of a full item budget makes 4 round
// trips and commits in one batch, whose statements are counted; a quiet check makes 3.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { configOf } from "../../src/config";
import { countingD1 } from "../support/d1-count";
import { inkitSim, resetSimulators } from "../support/simulator";
import { consumeCheck, createHookEndpoint, resetWebhookStore, rows, runCron, webhookEnv } from "../support/webhooks";

const SOURCE = "inkit:runs";
const CHECK_ITEMS = configOf(env).webhookCheckItems;

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

async function watched() {
  const db = countingD1(env.DB);
  const w = webhookEnv({ DB: db.binding });
  await createHookEndpoint(w, { sources: [SOURCE] });
  await runCron(w);
  // The first check of an isolate also checks the migrations once: not part of any check's cost after that.
  await consumeCheck(w, { source: SOURCE });
  w.queue.take();
  return { w, db };
}

/** Open watched items of the source. */
const openWatched = async () =>
  (await rows<{ n: number }>("SELECT COUNT(*) AS n FROM watched_items WHERE source = ? AND open = 1", SOURCE))[0]?.n ??
  0;

/**
 * The statements of a check's commit: its figures and lock, the prune of old figures, its frontier, the watch rows (9 a
 * statement: 11 bound values each), the prune of closed watches past the horizon, the check time of the unchanged
 * watched items read again (one statement, their ids bound as one JSON array); with events, the sequence, the events
 * (11 a statement), the stream's counter, and the deliveries (one statement, rows bound as one JSON array).
 */
const commitStatements = (watchRows: number, events: number, touched = 0) =>
  4 + Math.ceil(watchRows / 9) + (touched > 0 ? 1 : 0) + (events > 0 ? 3 + Math.ceil(events / 11) : 0);

const lastCheck = async () =>
  (
    await rows<{ calls: number; created: number; events: number; backlog: number; watched: number }>(
      "SELECT calls, created, events, backlog, watched FROM detection_checks WHERE source = ? ORDER BY version DESC LIMIT 1",
      SOURCE,
    )
  )[0];

describe("what one check costs", () => {
  it("a full budget of new items: 4 D1 round trips, the commit in one batch, its deliveries one statement", async () => {
    const { w, db } = await watched();
    await inkitSim.insert({ kind: "run", count: CHECK_ITEMS, status: "In Progress" });
    // Read again by the lookup, unchanged: their check time moves, in one statement.
    const looked = await openWatched();
    db.reset();
    await consumeCheck(w, { source: SOURCE });
    const check = await lastCheck();
    expect(check).toMatchObject({ created: CHECK_ITEMS, events: CHECK_ITEMS, backlog: 0 });
    expect(w.queue.take()).toHaveLength(CHECK_ITEMS);
    // The lease with the state; the recorded rows of what the scan showed; the watchers; the commit.
    const commit = commitStatements(CHECK_ITEMS, CHECK_ITEMS, looked);
    expect(db.count.log).toEqual(["batch[5]", "batch[1]", "SELECT id, tenant,", `batch[${commit}]`]);
    expect(db.count.statements).toBe(5 + 1 + 1 + commit);
    // Inkit caps its pages at 100: the new items and the page holding the frontier (see docs/change-detection.md#cpu-per-check),
    // the scan of the `updated_at` order through them to its marks, and the watched runs by id.
    expect(check?.calls).toBeLessThanOrEqual(7);
  });

  it("twice the items: two checks, the continuation queued at once and reading no watched items again", async () => {
    const { w, db } = await watched();
    await inkitSim.insert({ kind: "run", count: 2 * CHECK_ITEMS, status: "In Progress" });
    const looked = await openWatched();
    db.reset();
    await consumeCheck(w, { source: SOURCE });
    expect(db.count.log.at(-1)).toBe(`batch[${commitStatements(CHECK_ITEMS, CHECK_ITEMS, looked)}]`);
    expect(await lastCheck()).toMatchObject({ created: CHECK_ITEMS, backlog: 1 });
    // The continuation it queued at once.
    expect(w.detection.take().map((m) => [m.body, m.delaySeconds])).toEqual([[{ source: SOURCE }, 0]]);
    db.reset();
    await consumeCheck(w, { source: SOURCE });
    expect(await lastCheck()).toMatchObject({ created: CHECK_ITEMS, backlog: 0 });
    // It leaves the watched items to the next tick (looked up moments ago): no scan, no read of sighted rows, and
    // only the new items' watch rows.
    expect(db.count.log).toEqual([
      "batch[5]",
      "SELECT id, tenant,",
      `batch[${commitStatements(CHECK_ITEMS, CHECK_ITEMS)}]`,
    ]);
  });

  it("a check's walk reads just its windows: the frontier's group to measure the growth, then the items it takes", async () => {
    const { w } = await watched();
    await inkitSim.insert({ kind: "run", count: 2 * CHECK_ITEMS + 100, status: "In Progress" });
    await inkitSim.clearCounters();
    await consumeCheck(w, { source: SOURCE });
    expect(await lastCheck()).toMatchObject({ created: CHECK_ITEMS, backlog: 1 });
    // The walk's reads (creation order; the lookup's are by `updated_at` or by id), and the items each asked for.
    const walk = (await inkitSim.requests())
      .map((line) => new URL(line.replace(/^GET /, ""), "http://inkit.test").searchParams)
      .filter((q) => q.get("sort") === "-created_at" && !q.has("data_id"))
      .map((q) => Number(q.get("page_size")));
    // The frontier was the head: its group and one item past it, not a block of 100 that is parsed for nothing.
    expect(walk[0]).toBeLessThanOrEqual(2);
    // Then the items taken, the one after them and the frontier's group, in pages of at most Inkit's cap (100):
    // aligned blocks would round that out to whole blocks past either end.
    expect(walk.slice(1).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(CHECK_ITEMS + 100);
  });

  it("a burst that fills the scan's depth above its marks: the scan reads the top only, and the direct reads take over", async () => {
    const { w } = await watched();
    // 500 new runs since the last scan: its marks sit below them, past the 500 a scan reads from the top.
    await inkitSim.insert({ kind: "run", count: 500, status: "In Progress" });
    await inkitSim.clearCounters();
    await consumeCheck(w, { source: SOURCE });
    expect(await lastCheck()).toMatchObject({ created: CHECK_ITEMS, backlog: 1 });
    const queries = (await inkitSim.requests()).map(
      (line) => new URL(line.replace(/^GET /, ""), "http://inkit.test").searchParams,
    );
    // One page of the updated_at order (for the next scan's marks), not five read for nothing.
    expect(queries.filter((q) => q.get("sort") === "-updated_at")).toHaveLength(1);
    // The watched runs read directly, by id.
    expect(queries.filter((q) => q.has("data_id")).length).toBeGreaterThan(0);
  });

  it("when the scan gives up, the direct reads of runs stay one call of 100, the least recently checked", async () => {
    const { w } = await watched();
    await inkitSim.insert({ kind: "run", count: 350, status: "In Progress" });
    for (let i = 0; i < 3; i++) await consumeCheck(w, { source: SOURCE });
    expect(await openWatched()).toBeGreaterThan(300);
    await inkitSim.insert({ kind: "run", count: 500, status: "In Progress" });
    await inkitSim.clearCounters();
    await consumeCheck(w, { source: SOURCE });
    const byId = (await inkitSim.requests()).filter((line) => line.includes("data_id="));
    // Every watched run read again at once would be 4 calls here, and a call per 100 more open runs; the turns go on.
    expect(byId).toHaveLength(1);
  });

  it("more open runs than a check reads (its 200 least recently checked): the count holds, and a change of any is reported once", async () => {
    const { w, db } = await watched();
    await inkitSim.insert({ kind: "run", count: 350, status: "In Progress" });
    for (let i = 0; i < 3; i++) await consumeCheck(w, { source: SOURCE });
    await consumeCheck(w, { source: SOURCE });
    const open = await openWatched();
    expect(open).toBeGreaterThan(350);
    expect((await lastCheck())?.watched).toBe(open);
    // The most recently checked open run: outside the 200 the next check reads.
    const recent = (
      await rows<{ item_id: string }>(
        "SELECT item_id FROM watched_items WHERE source = ? AND open = 1 ORDER BY checked_at DESC, created_at DESC, item_id DESC LIMIT 1",
        SOURCE,
      )
    )[0]?.item_id as string;
    const eventsBefore = (await rows<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE source = ?", SOURCE))[0]?.n;
    await inkitSim.setStatus({ id: recent, status: "Completed" });
    db.reset();
    await consumeCheck(w, { source: SOURCE });
    // Its 200 open rows, the recorded rows of what the scan showed beyond them (a page: at most 100), a few more: not
    // every open row.
    expect(db.count.rowsReturned).toBeLessThan(200 + 100 + 10);
    expect(db.count.rowsReturned).toBeLessThan(open);
    await consumeCheck(w, { source: SOURCE });
    const events = await rows<{ type: string; object_id: string }>(
      "SELECT type, object_id FROM events WHERE source = ? ORDER BY sequence LIMIT -1 OFFSET ?",
      SOURCE,
      eventsBefore ?? 0,
    );
    expect(events.map((e) => `${e.type} ${e.object_id}`)).toEqual([
      `run.status_changed ${recent}`,
      `run.completed ${recent}`,
    ]);
    expect((await lastCheck())?.watched).toBe(open - 1);
    expect(await openWatched()).toBe(open - 1);
  });

  it("a quiet check: 3 D1 round trips", async () => {
    const { w, db } = await watched();
    const looked = await openWatched();
    db.reset();
    await consumeCheck(w, { source: SOURCE });
    expect(await lastCheck()).toMatchObject({ created: 0, events: 0 });
    expect(looked).toBeGreaterThan(0);
    expect(db.count.log).toEqual(["batch[5]", "batch[1]", `batch[${commitStatements(0, 0, looked)}]`]);
    // That one statement moved the check time of every watched run it read again (the turns go by it).
    const checkedAt = await rows<{ checked_at: string }>(
      "SELECT checked_at FROM watched_items WHERE source = ? AND open = 1",
      SOURCE,
    );
    const lastCheckAt = (
      await rows<{ checked_at: string }>(
        "SELECT checked_at FROM detection_checks WHERE source = ? ORDER BY version DESC LIMIT 1",
        SOURCE,
      )
    )[0]?.checked_at;
    expect(checkedAt.map((r) => r.checked_at)).toEqual(checkedAt.map(() => lastCheckAt));
  });
});
