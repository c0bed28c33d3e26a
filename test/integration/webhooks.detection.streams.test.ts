// Whole event streams: what a consumer receives equals what changed upstream, for bursts larger than any check can
// read at once, items that sink far below the head before they change, changes twice between two ticks, ties at the
// head and inside bursts, and an upstream that fails halfway through a backlog.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { configOf } from "../../src/config";
import {
  eightByEightSource,
  expectStream,
  inkitRunsSource,
  loggedEvents,
  type StreamSource,
  StreamTruth,
} from "../support/detection";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import {
  consumer,
  createHookEndpoint,
  drain,
  expectAllVerified,
  payloadOf,
  resetWebhookStore,
  rows,
  runCron,
  webhookEnv,
} from "../support/webhooks";

/**
 * One check announces at most this many new items (WEBHOOK_CHECK_ITEMS, at its default): the "window" a burst must
 * exceed.
 */
const CHECK_ITEMS = configOf(env).webhookCheckItems;

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

/** A watched source after its baseline, with the truth of what changes from here on. */
async function watching(src: StreamSource, overrides: Record<string, unknown> = {}) {
  const w = webhookEnv(overrides);
  const { hook } = await createHookEndpoint(w, { sources: [src.source] });
  await runCron(w);
  expect(await loggedEvents(src.source)).toEqual([]);
  return { w, hook, truth: new StreamTruth(src) };
}

const checks = (source: string) =>
  rows<{ calls: number; created: number; backlog: number; watched: number }>(
    "SELECT calls, created, backlog, watched FROM detection_checks WHERE source = ? ORDER BY version",
    source,
  );

describe.each([inkitRunsSource, eightByEightSource])("$name", (src) => {
  it.each([1, CHECK_ITEMS + 1, 10 * CHECK_ITEMS + 1, 10_000])(
    "a burst of %i new items: every one is announced once, oldest first, ties at the head included",
    async (count) => {
      const { w, truth } = await watching(src);
      await truth.insert(count, src.open[0], true);
      await runCron(w);
      expectStream(await loggedEvents(src.source), truth, src);
      // A check announces at most CHECK_ITEMS items within its call budget; the rest followed in checks the first one
      // queued, in one tick. (A check may announce fewer: the walk to a deep frontier takes its calls first.)
      const done = (await checks(src.source)).slice(1);
      expect(done.reduce((n, c) => n + c.created, 0)).toBe(count);
      expect(Math.max(...done.map((c) => c.created))).toBeLessThanOrEqual(CHECK_ITEMS);
      expect(Math.max(...done.map((c) => c.calls))).toBeLessThanOrEqual(40);
      expect(done.length).toBeLessThanOrEqual(Math.ceil(count / CHECK_ITEMS) + 2);
      const before = (await loggedEvents(src.source)).length;
      await runCron(w);
      expect((await loggedEvents(src.source)).length, "a later tick repeats nothing").toBe(before);
    },
  );

  it("a backlog of 2½ checks' worth: each check takes a full budget and queues the next at once, so one tick delivers it all, each event once, in order", async () => {
    const { w, hook, truth } = await watching(src);
    const count = Math.floor(2.5 * CHECK_ITEMS);
    await truth.insert(count, src.open[0]);
    const sentBefore = w.detection.sent.length;
    const ran = await runCron(w);
    // The tick's own check and the two continuations it and the next one queued, at once (no delay).
    expect(ran).toBe(3);
    expect(w.detection.sent.slice(sentBefore).map((m) => m.delaySeconds)).toEqual([0, 0, 0]);
    const done = (await checks(src.source)).slice(1);
    expect(done.map((c) => [c.created, c.backlog])).toEqual([
      [CHECK_ITEMS, 1],
      [CHECK_ITEMS, 1],
      [count - 2 * CHECK_ITEMS, 0],
    ]);
    const logged = await loggedEvents(src.source);
    expectStream(logged, truth, src);
    // Delivered as recorded: each event once (a batch's deliveries are sent at once, so they may arrive in any order;
    // the sequence orders them).
    await drain(w);
    const received = await consumer.received(hook);
    expectAllVerified(received);
    const sequences = received.map((r) => payloadOf(r).sequence as number).sort((a, b) => a - b);
    expect(sequences).toEqual(logged.map((e) => e.sequence));
    const before = logged.length;
    await runCron(w);
    expect((await loggedEvents(src.source)).length, "a later tick repeats nothing").toBe(before);
  });

  it("ties served in an order that changes with the request's window: a burst of 1,201 in tied groups", async () => {
    await src.settings({ tie_order: "window" });
    const { w, truth } = await watching(src);
    for (let i = 0; i < 3; i++) await truth.insert(400 + (i === 0 ? 1 : 0), src.open[i % 2] as string, true);
    await runCron(w);
    expectStream(await loggedEvents(src.source), truth, src);
  });

  it("items buried far below the head report their final state, also after two changes between ticks", async () => {
    const { w, truth } = await watching(src);
    const open = await truth.insert(300, src.open[0]);
    await runCron(w);
    // Bury them: 1,500 newer items that are already over, so nothing new is watched.
    await truth.insert(1_500, src.done[0]);
    await runCron(w);
    expect((await checks(src.source)).at(-1)?.watched).toBeGreaterThanOrEqual(300);

    await truth.setStatus(open.slice(0, 100), src.done[0]);
    await truth.setStatus(open.slice(100, 200), src.done[1]);
    // Twice between two ticks: the consumer gets the final state (the middle one may be coalesced).
    await truth.setStatus(open.slice(200, 250), src.open[1]);
    await truth.setStatus(open.slice(200, 250), src.done[0]);
    await truth.setStatus(open.slice(250, 275), src.open[1]);
    await runCron(w);
    expectStream(await loggedEvents(src.source), truth, src);
    // Within a few checks everything is read again directly, whatever a scan of recent changes saw.
    for (let i = 0; i < 3; i++) await runCron(w);
    expectStream(await loggedEvents(src.source), truth, src);
    const open25 = await rows<{ n: number }>(
      "SELECT COUNT(*) AS n FROM watched_items WHERE source = ? AND open = 1",
      src.source,
    );
    expect(open25[0]?.n).toBeGreaterThanOrEqual(25);
  });

  it("items open at the baseline far below what it read report their final state when they change", async () => {
    // Before the baseline: 300 open items, buried under 300 newer ones that are over.
    const open = (await src.insert(300, src.open[0])).map((i) => i.id);
    await src.insert(300, src.done[0]);
    const { w, truth } = await watching(src);
    await truth.setStatus(open.slice(0, 150), src.done[0]);
    await truth.setStatus(open.slice(150, 200), src.done[1]);
    await truth.setStatus(open.slice(200, 220), src.open[1]);
    await runCron(w);
    expectStream(await loggedEvents(src.source), truth, src);
    // Those still open are watched from now on, however deep: their end arrives too, and nothing repeats.
    await truth.setStatus(open.slice(200, 300), src.done[0]);
    for (let i = 0; i < 3; i++) await runCron(w);
    expectStream(await loggedEvents(src.source), truth, src);
  });

  it("an upstream failing halfway through a backlog: what was read is kept, the next tick resumes", async () => {
    const { w, truth } = await watching(src);
    // A backlog of 15 checks' worth: more than 20 calls read it.
    const backlog = 15 * CHECK_ITEMS;
    await truth.insert(backlog, src.open[0]);
    const sim = src === inkitRunsSource ? inkitSim : eightByEightSim;
    // Every attempt fails from the 21st call on: past the first check of the backlog, before its end. The failing check
    // commits what it read and queues no continuation.
    await sim.fault({ status: 503, after: 20 });
    await runCron(w);
    const partial = await loggedEvents(src.source);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(backlog);
    expect(w.detection.size).toBe(0);
    await sim.clearFaults();
    await runCron(w);
    expectStream(await loggedEvents(src.source), truth, src);
  });

  it("open items the upstream stops listing are reported once as gone, the others still watched", async () => {
    const { w, truth } = await watching(src);
    const open = await truth.insert(40, src.open[0]);
    await runCron(w);
    // Buried first, so they are found only by the lookups, then purged upstream.
    await truth.insert(CHECK_ITEMS + 1, src.done[0]);
    await runCron(w);
    const watchedOpen = async () =>
      (
        await rows<{ item_id: string }>("SELECT item_id FROM watched_items WHERE source = ? AND open = 1", src.source)
      ).map((r) => r.item_id);
    const watchedBefore = await watchedOpen();
    expect(watchedBefore).toEqual(expect.arrayContaining(open));
    const purged = open.slice(0, 7);
    await src.remove(purged);
    const before = (await loggedEvents(src.source)).length;
    for (let i = 0; i < 3; i++) await runCron(w);
    const after = (await loggedEvents(src.source)).slice(before);
    expect(after.map((e) => `${e.type} ${e.object_id}`).sort()).toEqual(
      purged.map((id) => `run.unwatched ${id}`).sort(),
    );
    for (const e of after) expect(JSON.parse(e.payload).data).toMatchObject({ reason: "gone" });
    // Each carries the item as detection recorded it (as announced), not only what the row's own columns hold.
    const announced = new Map(
      (await loggedEvents(src.source))
        .filter((e) => e.type === "run.created")
        .map((e) => [e.object_id, JSON.parse(e.payload).data.object]),
    );
    for (const e of after) expect(JSON.parse(e.payload).data.object).toEqual(announced.get(e.object_id));
    expect((await watchedOpen()).sort()).toEqual(watchedBefore.filter((id) => !purged.includes(id)).sort());
    // The rest still report their final state.
    const settled = (await loggedEvents(src.source)).length;
    await truth.setStatus(open.slice(7), src.done[0]);
    await runCron(w);
    const finals = (await loggedEvents(src.source)).slice(settled).filter((e) => e.type === "run.completed");
    expect(finals.map((e) => e.object_id).sort()).toEqual(open.slice(7).sort());
  });

  it("a quiet tick costs at most 3 upstream calls, whatever the depth of the open items", async () => {
    const { w, truth } = await watching(src);
    await truth.insert(150, src.open[0]);
    await runCron(w);
    await truth.insert(2_000, src.done[0]);
    await runCron(w);
    for (let i = 0; i < 3; i++) await runCron(w);
    const quiet = (await checks(src.source)).slice(-3);
    expect(quiet.map((c) => c.calls)).toEqual([3, 3, 3]);
    expectStream(await loggedEvents(src.source), truth, src);
  });
});

describe("8x8 versions: the default listing follows the latest version", () => {
  const src = eightByEightSource;
  const definitionId = src.source.slice(src.source.indexOf("/") + 1);

  it.each([
    ["with instances", 600],
    ["still empty", 0],
  ])(
    "instances started on the old version just before a new one was published are announced (new version %s)",
    async (_, onNew) => {
      const { w, truth } = await watching(src);
      // A burst larger than a check on the old version, then the new version, then its own instances.
      await truth.insert(CHECK_ITEMS + 200, src.open[0], true);
      await eightByEightSim.publish({ definitionId });
      if (onNew > 0) await truth.insert(onNew, src.open[0], true);
      await runCron(w);
      expectStream(await loggedEvents(src.source), truth, src);
      // The new version's later instances follow from its own start, and nothing repeats.
      await truth.insert(50, src.open[0]);
      await runCron(w);
      await runCron(w);
      expectStream(await loggedEvents(src.source), truth, src);
    },
  );
});

describe("8x8 versions: instances open on older versions", () => {
  const src = eightByEightSource;
  const definitionId = src.source.slice(src.source.indexOf("/") + 1);

  it("instances open on an older version when detection started report their end, and quiet ticks stay at 3 calls", async () => {
    // Before the baseline: open instances on the current version, then a newer version with instances of its own.
    const older = (await src.insert(30, src.open[0])).map((i) => i.id);
    await eightByEightSim.publish({ definitionId });
    await src.insert(10, src.open[0]);
    const { w, truth } = await watching(src);
    await truth.setStatus(older.slice(0, 20), src.done[0]);
    await truth.setStatus(older.slice(20, 25), src.done[1]);
    await truth.setStatus(older.slice(25, 28), src.open[1]);
    // Older versions' lists take turns: every change arrives within as many ticks as there are lists.
    for (let i = 0; i < 6; i++) await runCron(w);
    expectStream(await loggedEvents(src.source), truth, src);
    // The changes cost a read by start time in the tick that saw them; the ticks after them are quiet.
    expect((await checks(src.source)).slice(-4).map((c) => c.calls)).toEqual([3, 3, 3, 3]);
  });
});

describe("delivery of a whole stream", () => {
  // About 1,100 deliveries over loopback HTTP, each with its D1 writes: far longer than a test's default 30 s when
  // another file shares the machine.
  it("an independent Standard Webhooks consumer receives every creation and final state, verified", {
    timeout: 180_000,
  }, async () => {
    const src = inkitRunsSource;
    const { w, hook, truth } = await watching(src);
    const open = await truth.insert(CHECK_ITEMS + 1, src.open[0], true);
    await runCron(w);
    await truth.insert(600, src.done[0]);
    await truth.setStatus(open.slice(0, 40), src.done[0]);
    await truth.setStatus(open.slice(40, 60), src.done[1]);
    await runCron(w);
    await drain(w, 100);
    const received = await consumer.received(hook);
    expectAllVerified(received);
    // The consumer's own view: per object, the highest sequence's state; every creation once.
    const latest = new Map<string, { sequence: number; status: string }>();
    const createdSeen = new Map<string, number>();
    for (const payload of received.map(payloadOf)) {
      const id = payload.data.object.id;
      if (payload.type === "run.created") createdSeen.set(id, (createdSeen.get(id) ?? 0) + 1);
      const known = latest.get(id);
      if (!known || (payload.sequence ?? 0) > known.sequence)
        latest.set(id, { sequence: payload.sequence ?? 0, status: payload.data.object.status });
    }
    expect([...createdSeen.keys()].sort()).toEqual([...truth.created.keys()].sort());
    expect([...createdSeen.values()].every((n) => n === 1)).toBe(true);
    for (const [id, status] of truth.finals) expect(latest.get(id)?.status, id).toBe(status);
    for (const id of truth.created.keys())
      if (!truth.finals.has(id)) expect(["running", "completed"]).toContain(latest.get(id)?.status);
  });
});

describe("the watch horizon", () => {
  it("an item still open when its watch passes the horizon is reported as run.unwatched, then left alone", async () => {
    const src = eightByEightSource;
    const { w, truth } = await watching(src);
    const [first, second] = await truth.insert(2, src.open[0], false);
    await runCron(w);
    // The first one has been watched for 31 days (the horizon is 30).
    await w.env.DB.prepare("UPDATE watched_items SET seen_at = '2026-01-01T00:00:00.000000Z' WHERE item_id = ?")
      .bind(first)
      .run();
    await runCron(w);
    const events = await loggedEvents(src.source);
    const last = events.at(-1);
    expect(last?.type).toBe("run.unwatched");
    expect(last?.object_id).toBe(first);
    expect(JSON.parse(last?.payload ?? "{}").data).toMatchObject({ reason: "horizon", previous: null });
    const created = events.find((e) => e.type === "run.created" && e.object_id === first);
    expect(JSON.parse(last?.payload ?? "{}").data.object).toEqual(JSON.parse(created?.payload ?? "{}").data.object);
    await src.setStatus([first as string, second as string], src.done[0]);
    await runCron(w);
    const after = (await loggedEvents(src.source)).slice(events.length);
    expect(after.map((e) => `${e.type} ${e.object_id}`)).toEqual([
      `run.status_changed ${second}`,
      `run.completed ${second}`,
    ]);
  });
});
