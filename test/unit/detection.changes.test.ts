import { describe, expect, it } from "vitest";
import {
  changed,
  compareWatched,
  created,
  fanOut,
  numbered,
  type WatchedItem,
  watchRow,
} from "../../src/detection/changes";
import type { WatchedRow } from "../../src/detection/store";

// The pure core of change detection, by example: what one observation of an item means.

const NOW = "2026-12-01T00:00:00.000000Z";
const HORIZON = "2026-11-01T00:00:00.000000Z";

const run = (id: string, status: string, provider_status = status): WatchedItem =>
  ({ id, status, provider_status, created_at: "2026-11-20T00:00:00.000000Z", provider: "inkit" }) as WatchedItem;

const row = (id: string, status: string, extra: Partial<WatchedRow> = {}): WatchedRow => ({
  ...watchRow(run(id, status), "2026-11-25T00:00:00.000000Z"),
  ...extra,
});

describe("what one observation means", () => {
  it.each([
    ["running", ["run.created"]],
    ["completed", ["run.created", "run.completed"]],
    ["failed", ["run.created", "run.failed"]],
    ["terminated", ["run.created"]],
  ])("a new run that is %s: %j", (status, types) => {
    expect(created("run", run("r", status)).types).toEqual(types);
  });

  it.each([
    ["running", "running", "In Progress", null],
    ["running", "completed", "Completed", ["run.status_changed", "run.completed"]],
    ["running", "failed", "Failed", ["run.status_changed", "run.failed"]],
    ["pending", "running", "In Progress", ["run.status_changed"]],
    // The upstream's own text moved, the normalized status did not: a change, but no terminal type again.
    ["completed", "completed", "Done", ["run.status_changed"]],
  ])("a watched run %s, read again %s (%s): %j", (before, after, text, types) => {
    const watched = row("r", before, { provider_status: before === "completed" ? "Completed" : "In Progress" });
    expect(changed("run", watched, run("r", after, text))?.types ?? null).toEqual(types);
  });

  it("a batch reaching completed is batch.status_changed and batch.completed, with the previous status", () => {
    const change = changed("batch", row("b", "in_progress"), run("b", "completed"));
    expect(change).toMatchObject({
      types: ["batch.status_changed", "batch.completed"],
      previous: { status: "in_progress", provider_status: "in_progress" },
    });
  });
});

describe("comparing the watched items with a lookup", () => {
  const options = { horizonStart: HORIZON, now: NOW };

  it("closes terminal watches, keeps changed open ones, drops gone ones, and leaves unread ones alone", () => {
    const watched = [row("done", "running"), row("moved", "pending"), row("gone", "running"), row("unread", "running")];
    const out = compareWatched(
      "run",
      watched,
      { found: [run("done", "completed"), run("moved", "running")], gone: ["gone"] },
      options,
    );
    // Oldest item first (here all created together, so by id).
    expect(out.changes.map((c) => `${c.types.join("+")} ${c.item.id}`)).toEqual([
      "run.status_changed+run.completed done",
      "run.unwatched gone",
      "run.status_changed moved",
    ]);
    expect(out.changes[1]?.reason).toBe("gone");
    expect(out.unwatch).toEqual(["gone"]);
    // A terminal item's watch is closed, not dropped: a push that names it is still followed.
    expect(out.watch.map((w) => [w.item_id, w.status, w.open])).toEqual([
      ["done", "completed", 0],
      ["moved", "running", 1],
    ]);
  });

  it("an item still open when its watch passes the horizon is unwatched, found or not", () => {
    const old = { seen_at: "2026-10-01T00:00:00.000000Z" };
    const out = compareWatched(
      "run",
      [row("a", "running", old), row("b", "running", old), row("c", "running", old)],
      { found: [run("a", "running"), run("b", "completed")], gone: [] },
      options,
    );
    expect(out.changes.map((c) => `${c.types.join("+")} ${c.item.id} ${c.reason ?? ""}`.trim())).toEqual([
      "run.unwatched a horizon",
      "run.status_changed+run.completed b",
      "run.unwatched c horizon",
    ]);
    expect(out.unwatch.sort()).toEqual(["a", "c"]);
  });

  it("an unchanged item is touched (its check time only) when the lookup takes turns, and its row not rewritten", () => {
    const lookup = { found: [run("a", "running"), run("b", "completed")], gone: [] };
    const watched = [row("a", "running"), row("b", "running")];
    const plain = compareWatched("run", watched, lookup, options);
    expect(plain.touched).toEqual([]);
    expect(plain.watch.map((w) => w.item_id)).toEqual(["b"]);
    const turns = compareWatched("run", watched, lookup, { ...options, touch: true });
    expect(turns.touched).toEqual(["a"]);
    // The changed one is rewritten whole, as without turns; the unchanged one is not rewritten at all.
    expect(turns.watch.map((w) => [w.item_id, w.status, w.checked_at])).toEqual([["b", "completed", NOW]]);
  });

  it("a closed watch that a push names and that is open again is watched again", () => {
    const out = compareWatched(
      "run",
      [row("a", "failed", { open: 0 })],
      { found: [run("a", "running")], gone: [] },
      options,
    );
    expect(out.changes.map((c) => c.types)).toEqual([["run.status_changed"]]);
    expect(out.watch.map((w) => w.open)).toEqual([1]);
  });
});

describe("numbering and fan-out", () => {
  it("numbers every (change, type) from the last sequence, in order, whoever subscribes", () => {
    const changes = numbered([created("run", run("a", "completed")), created("run", run("b", "running"))], 41);
    expect(changes.map((c) => c.sequences)).toEqual([[42, 43], [44]]);
  });

  it("records one event per type and subscribed tenant, and delivers only to enabled webhook endpoints", () => {
    const changes = numbered([created("run", run("a", "completed"))], 0);
    const watchers = [
      { id: "we_1", tenant: "t1", event_types: null, enabled: 1, delivers: 1 },
      { id: "we_2", tenant: "t1", event_types: JSON.stringify(["run.completed"]), enabled: 0, delivers: 1 },
      { id: "sub_1", tenant: "t2", event_types: JSON.stringify(["run.completed"]), enabled: 1, delivers: 0 },
    ];
    const { events, deliveries } = fanOut("inkit:runs", changes, watchers, NOW);
    expect(events.map((e) => `${e.tenant} ${e.type} ${e.sequence}`)).toEqual([
      "t1 run.created 1",
      "t1 run.completed 2",
      "t2 run.completed 2",
    ]);
    expect(deliveries.map((d) => d.endpoint_id)).toEqual(["we_1", "we_1"]);
    expect(JSON.parse(events[1]?.payload ?? "{}")).toMatchObject({ type: "run.completed", sequence: 2 });
  });
});
