// An 8x8 source with more open instances than one check reads: each check reads a segment of its open rows (200, in
// start-time order) and the open lists within the segment's start times, and sends the next check at once, so one
// tick still reads every open instance again, and each check's cost stays bounded. Counted, never timed.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_API_KEYS } from "../../simulator/credentials";
import { checkSource } from "../../src/detection/check";
import { OPEN_ITEMS_PER_CHECK, RESOLVE_ITEMS_PER_CHECK } from "../../src/detection/lookups";
import { sourceDeps } from "../../src/detection/sources";
import type { CheckMessage } from "../../src/detection/tick";
import { countingD1 } from "../support/d1-count";
import { eightByEightSource as src } from "../support/detection";
import { eightByEightSim, resetSimulators } from "../support/simulator";
import {
  consumeCheck,
  createHookEndpoint,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

const SEGMENT = 200;

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

const openRows = async () =>
  rows<{ item_id: string; created_at: string }>(
    "SELECT item_id, created_at FROM watched_items WHERE source = ? AND open = 1 ORDER BY created_at DESC, item_id DESC",
    src.source,
  );

const events = async (after: number) =>
  (
    await rows<{ type: string; object_id: string; payload: string }>(
      "SELECT type, object_id, payload FROM events WHERE source = ? ORDER BY sequence LIMIT -1 OFFSET ?",
      src.source,
      after,
    )
  ).map((e) => ({ line: `${e.type} ${e.object_id}`, data: JSON.parse(e.payload).data }));

/**
 * The items 8x8 served since the counters were cleared, to the open lists' reads or to the reads by start time (of
 * instances that left them): each such request the simulator logged, asked again (nothing changed upstream since), its
 * answer counted.
 */
async function served(which: "lists" | "by start time" = "lists"): Promise<number> {
  const lists = (await eightByEightSim.requests()).filter((line) =>
    which === "lists" ? /[?&]status=/.test(line) : !/[?&]status=/.test(line) && /[?&]startTimeFrom=/.test(line),
  );
  let items = 0;
  for (const line of lists) {
    const res = await fetch(`${eightByEightSim.url}${line.slice("GET ".length)}`, {
      headers: { Authorization: `Bearer ${EIGHT_BY_EIGHT_API_KEYS.demo}` },
    });
    items += ((await res.json()) as unknown[]).length;
  }
  return items;
}

/**
 * One tick's pass for the source, one check at a time as the queue runs them: the tick's check, then each one a check
 * sends. `each` runs after every check, with the simulator's counters cleared before it. Answers the checks run.
 */
async function pass(w: WebhookEnv, each: () => Promise<void>): Promise<number> {
  let checks = 0;
  for (let message: CheckMessage | undefined = { source: src.source }; message; ) {
    await eightByEightSim.clearCounters();
    await consumeCheck(w, message);
    await each();
    message = w.detection
      .take()
      .map((m) => m.body as CheckMessage)
      .find((m) => m.source === src.source);
    expect(++checks).toBeLessThan(40);
  }
  return checks;
}

const lastCheck = async () =>
  (
    await rows<{ calls: number; watched: number }>(
      "SELECT calls, watched FROM detection_checks WHERE source = ? ORDER BY version DESC LIMIT 1",
      src.source,
    )
  )[0];

describe("8x8: more open instances than a check reads", () => {
  it.each([
    { upstream: "as documented", cap: null },
    // A silent cap below a segment's size: a list cut short looks whole, so instances of the segment are missing from
    // it, and are looked for by their start time (still open: nothing to report, and the cap is learned).
    { upstream: "capping pages at 150 silently", cap: 150 },
  ])(
    "8x8 $upstream: a pass of checks, one segment each, reads them all within a tick: a change or a purge anywhere is reported once, and no check reads every row",
    async ({ cap }) => {
      const db = countingD1(env.DB);
      const w = webhookEnv({ DB: db.binding });
      await createHookEndpoint(w, { sources: [src.source] });
      await runCron(w);
      if (cap !== null) await eightByEightSim.settings({ page_size_cap: cap });
      const inserted = new Set((await src.insert(450, src.open[0])).map((i) => i.id));
      await runCron(w);
      const open = await openRows();
      expect(open.length).toBeGreaterThan(2 * SEGMENT);
      // The oldest of those (in the last segment, on the latest version's Runnable list) ends; one in the middle of the
      // second segment is purged upstream.
      const ends = open.filter((r) => inserted.has(r.item_id)).at(-1)?.item_id as string;
      expect(open.findIndex((r) => r.item_id === ends)).toBeGreaterThanOrEqual(2 * SEGMENT);
      const purged = open[SEGMENT + 50]?.item_id as string;
      await src.setStatus([ends], src.done[0]);
      await src.remove([purged]);
      const before = (await rows<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE source = ?", src.source))[0]?.n;

      // The tick's check, then each one it sends, one at a time.
      const perCheck: { rows: number; lists: string[] }[] = [];
      db.reset();
      await pass(w, async () => {
        const lists = (await eightByEightSim.requests()).filter((line) => /[?&]status=/.test(line));
        perCheck.push({ rows: db.count.rowsReturned, lists });
        db.reset();
      });
      // One check per segment of 200: the open rows' pass ends with the last one, which sends no other.
      expect(perCheck).toHaveLength(Math.ceil(open.length / SEGMENT));
      // Each check's D1 reads hand back its segment (201 rows, one to tell that more lie below), its state, sequence and
      // count, and the recorded rows of what its lists showed beyond its segment (ties at its edges): not every open row.
      // Reading every open row, each check hands back more than all of them.
      for (const check of perCheck) expect(check.rows).toBeLessThan(SEGMENT + 20);
      // Each reads the open lists within its start times: bounded on both sides but for the last segment (to the bottom).
      for (const [i, check] of perCheck.entries()) {
        expect(check.lists.length).toBeGreaterThan(0);
        for (const line of check.lists) {
          expect(line).toContain("startTimeTo=");
          if (i < perCheck.length - 1) expect(line).toContain("startTimeFrom=");
        }
      }
      const after = await events(before ?? 0);
      expect(after.map((e) => e.line).sort()).toEqual(
        [`run.status_changed ${ends}`, `run.completed ${ends}`, `run.unwatched ${purged}`].sort(),
      );
      expect(after.find((e) => e.line.startsWith("run.unwatched"))?.data).toMatchObject({ reason: "gone" });
      expect((await lastCheck())?.watched).toBe(open.length - 2);
      expect((await openRows()).length).toBe(open.length - 2);
      // A capped upstream taught the cap: later lists are read in windows of it.
      const hints = await rows<{ hints: string }>("SELECT hints FROM detection_state WHERE source = ?", src.source);
      expect(JSON.parse(hints[0]?.hints as string).openCap ?? 0).toBe(cap ?? 0);

      // The next tick starts at the top again, and a quiet pass reports nothing.
      const quietBefore = (
        await rows<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE source = ?", src.source)
      )[0]?.n;
      await runCron(w);
      expect(await events(quietBefore ?? 0)).toEqual([]);
    },
  );

  it("a push naming an instance outside the check's segment: it is read by its start time, and reported at once", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: [src.source] });
    await runCron(w);
    await src.insert(450, src.open[0]);
    await runCron(w);
    const open = await openRows();
    // The oldest open instance sits in the last segment: the top segment's lists (read within its start times) never
    // show it, so its absence there says nothing, and it is looked for by its start time.
    const oldest = open.at(-1)?.item_id as string;
    const quiet = open[SEGMENT + 10]?.item_id as string;
    await src.setStatus([oldest], src.done[0]);
    const before = (await rows<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE source = ?", src.source))[0]?.n;
    await eightByEightSim.clearCounters();
    const result = await checkSource(
      w.env,
      sourceDeps(w.env, () => {}),
      src.source,
      { named: [oldest, quiet] },
    );
    expect(result).toMatchObject({ outcome: "checked", moreOpen: true });
    expect((await events(before ?? 0)).map((e) => e.line)).toEqual([
      `run.status_changed ${oldest}`,
      `run.completed ${oldest}`,
    ]);
    // The named one still open (in the second segment) stays watched. Its absence from lists read within other start
    // times is no sign of a cap on them either: none is learned (one would make every later list read take more calls).
    expect((await openRows()).map((r) => r.item_id)).toContain(quiet);
    const hints = await rows<{ hints: string }>("SELECT hints FROM detection_state WHERE source = ?", src.source);
    expect(JSON.parse(hints[0]?.hints as string).openCap ?? 0).toBe(0);
    const byStart = (await eightByEightSim.requests()).filter(
      (l) => !/[?&]status=/.test(l) && l.includes("startTimeFrom="),
    );
    expect(byStart.length).toBeGreaterThan(0);
  });

  it("more open instances at the baseline than a check reads of the open lists: the rest are watched by the next passes, and no check reads more than the bound", async () => {
    const inserted = (await src.insert(1_400, src.open[0])).map((i) => i.id);
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: [src.source] });
    await eightByEightSim.clearCounters();
    await runCron(w);
    expect(await served()).toBeLessThanOrEqual(OPEN_ITEMS_PER_CHECK);
    const atBaseline = new Set((await openRows()).map((r) => r.item_id));
    const unseen = inserted.filter((id) => !atBaseline.has(id));
    expect(unseen.length).toBeGreaterThan(0);

    // The next ticks' passes, one check at a time: each reads at most the bound, and together they watch the rest.
    let checks = 0;
    const watchedAll = async () => {
      const watched = new Set((await openRows()).map((r) => r.item_id));
      return inserted.every((id) => watched.has(id));
    };
    for (let tick = 0; tick < 6 && !(await watchedAll()); tick++)
      checks += await pass(w, async () => expect(await served()).toBeLessThanOrEqual(OPEN_ITEMS_PER_CHECK));
    expect(checks).toBeLessThan(40);
    expect(await watchedAll()).toBe(true);
    // None of them was announced (they were open before the baseline): watching them reports nothing.
    expect(await events(0)).toEqual([]);

    // One watched only after the baseline ends: reported once.
    const late = unseen[0] as string;
    await src.setStatus([late], src.done[0]);
    await runCron(w);
    expect((await events(0)).map((e) => e.line)).toEqual([`run.status_changed ${late}`, `run.completed ${late}`]);
  });

  it("many instances end at once, sparse among others that ended: each check reads at most 500 by start time, and every end is reported once", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: [src.source] });
    await runCron(w);
    const inserted = (await src.insert(1_500, src.open[0])).map((i) => i.id);
    await runCron(w);
    // Nine in ten end: the rest are open among 1,350 that ended.
    const sparse = inserted.filter((_, i) => i % 10 === 0);
    await src.setStatus(
      inserted.filter((_, i) => i % 10 !== 0),
      src.done[0],
    );
    await runCron(w);
    const before = (await rows<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE source = ?", src.source))[0]?.n;
    // Then those end too: the reads by start time that find them span every instance between them.
    await src.setStatus(sparse, src.done[0]);
    let checks = 0;
    for (let tick = 0; tick < 8; tick++)
      checks += await pass(w, async () =>
        expect(await served("by start time")).toBeLessThanOrEqual(RESOLVE_ITEMS_PER_CHECK),
      );
    const after = await events(before ?? 0);
    expect(after.map((e) => e.line).sort()).toEqual(
      sparse.flatMap((id) => [`run.completed ${id}`, `run.status_changed ${id}`]).sort(),
    );
    const stillOpen = new Set((await openRows()).map((r) => r.item_id));
    expect(sparse.filter((id) => stillOpen.has(id))).toEqual([]);
    expect(checks).toBeGreaterThan(1);
  });

  it("an older version's open instances are watched at the baseline even when the latest version's Runnable list alone fills the bound, and their ends are reported", async () => {
    const definitionId = src.source.slice(src.source.indexOf("/") + 1);
    const older = (await src.insert(30, src.open[0])).map((i) => i.id);
    await eightByEightSim.publish({ definitionId });
    await src.insert(1_100, src.open[0]);
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: [src.source] });
    await eightByEightSim.clearCounters();
    await runCron(w);
    expect(await served()).toBeLessThanOrEqual(OPEN_ITEMS_PER_CHECK);
    const watched = new Set((await openRows()).map((r) => r.item_id));
    expect(older.filter((id) => !watched.has(id))).toEqual([]);
    const ends = older.slice(0, 10);
    await src.setStatus(ends, src.done[0]);
    for (let tick = 0; tick < 8; tick++) await runCron(w);
    expect((await events(0)).map((e) => e.line).sort()).toEqual(
      ends.flatMap((id) => [`run.completed ${id}`, `run.status_changed ${id}`]).sort(),
    );
  });

  it("a silent cap is learned from the list that cut an instance off, not from another list that merely ended short", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: [src.source] });
    await runCron(w);
    const ids = (await src.insert(450, src.open[0])).map((i) => i.id);
    await runCron(w);
    // A few suspended instances: their lists end after a few items in every segment's start times.
    await src.setStatus(
      ids.filter((_, i) => i % 60 === 7),
      src.open[1],
    );
    await runCron(w);
    await eightByEightSim.settings({ page_size_cap: 150 });
    await runCron(w);
    const cap = async () =>
      JSON.parse(
        (await rows<{ hints: string }>("SELECT hints FROM detection_state WHERE source = ?", src.source))[0]
          ?.hints as string,
      ).openCap;
    expect(await cap()).toBe(150);
    const before = (await rows<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE source = ?", src.source))[0]?.n;
    const ends = ids.slice(0, 3);
    await src.setStatus(ends, src.done[0]);
    for (let tick = 0; tick < 3; tick++) await runCron(w);
    expect((await events(before ?? 0)).map((e) => e.line).sort()).toEqual(
      ends.flatMap((id) => [`run.completed ${id}`, `run.status_changed ${id}`]).sort(),
    );
    expect(await cap()).toBe(150);
  });
});
