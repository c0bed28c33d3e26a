import { describe, expect, it } from "vitest";
import {
  type Change,
  numbered,
  sequenceAfter,
  sightedIds,
  sightings,
  type WatchedItem,
  type WatchOutcome,
  watchRow,
  withSightings,
} from "../../src/detection/changes";
import type { Frontier } from "../../src/detection/frontier-rules";
import type { WatchedRow } from "../../src/detection/store";

// What a lookup shows of items detection never watched, and the sequences a check hands out: the pure core, by example.

const NOW = "2026-12-01T00:00:00.000000Z";
const EARLIER = "2026-11-25T00:00:00.000000Z";
const T1 = "2026-11-20T00:00:01.000000Z";
const T2 = "2026-11-20T00:00:02.000000Z";
const T3 = "2026-11-20T00:00:03.000000Z";

const item = (id: string, status: string, created_at = T1, provider_status = status): WatchedItem =>
  ({ id, status, provider_status, created_at, provider: "inkit" }) as WatchedItem;

const row = (id: string, status: string, extra: Partial<WatchedRow> = {}): WatchedRow => ({
  ...watchRow(item(id, status), EARLIER),
  ...extra,
});

const frontier: Frontier = {
  frontierAt: T2,
  frontierIds: ["at-frontier"],
  hints: { at: 0, span: 0, total: null, cap: 0 },
  backlog: false,
};

describe("sightings: what the lookup shows that detection does not watch", () => {
  it.each([
    ["older than the frontier, never watched", item("old", "running", T1), true],
    ["announced at the frontier's instant", item("at-frontier", "running", T2), true],
    ["at the frontier's instant, not announced yet (a later read announces it)", item("tie", "running", T2), false],
    ["newer than the frontier", item("newer", "running", T3), false],
    ["watched already", item("watched", "running", T1), false],
    ["announced by this very check", item("new", "running", T1), false],
  ])("%s: sighted = %s", (_, seenItem, sighted) => {
    const look = { seenOpen: [seenItem], seenChanged: [seenItem], seenListed: [seenItem] };
    const news = { items: [item("new", "running", T1)], frontier };
    const out = sightings(look, [row("watched", "running")], news);
    expect(out.open.map((i) => i.id)).toEqual(sighted ? [seenItem.id] : []);
    expect(out.changed.map((i) => i.id)).toEqual(sighted ? [seenItem.id] : []);
    expect(out.listed.map((i) => i.id)).toEqual(sighted ? [seenItem.id] : []);
  });

  it("keeps open and changed sightings apart, in the lookup's order", () => {
    const look = {
      seenOpen: [item("o2", "running"), item("o1", "suspended")],
      seenChanged: [item("c1", "completed"), item("c2", "running")],
      seenListed: [item("l1", "failed")],
    };
    const out = sightings(look, [], { items: [], frontier });
    expect(out.open.map((i) => i.id)).toEqual(["o2", "o1"]);
    expect(out.changed.map((i) => i.id)).toEqual(["c1", "c2"]);
    expect(out.listed.map((i) => i.id)).toEqual(["l1"]);
  });

  it("an empty listing at the baseline (no frontier) sights nothing", () => {
    const none: Frontier = { ...frontier, frontierAt: null, frontierIds: [] };
    const look = {
      seenOpen: [item("a", "running")],
      seenChanged: [item("b", "failed")],
      seenListed: [item("c", "failed")],
    };
    const out = sightings(look, [], { items: [], frontier: none });
    expect(out).toEqual({ open: [], changed: [], listed: [] });
  });
});

describe("withSightings: the watch outcome with what the sightings add", () => {
  const versionOf = (i: WatchedItem) => (i.id.startsWith("v") ? "7" : null);
  const options = { now: NOW, versionOf };
  const earlier: Change = { item: item("w", "completed"), previous: null, types: ["run.completed"] };
  const compared = (): WatchOutcome => ({
    changes: [earlier],
    watch: [row("w", "completed")],
    unwatch: ["g"],
    touched: ["t"],
  });

  it("watches what it saw open from now on, after the outcome's own rows", () => {
    const out = withSightings(
      "run",
      compared(),
      { open: [item("v1", "running")], changed: [], listed: [] },
      [],
      options,
    );
    expect(out.changes).toEqual([earlier]);
    expect(out.unwatch).toEqual(["g"]);
    expect(out.touched).toEqual(["t"]);
    expect(out.watch.map((w) => [w.item_id, w.open, w.version, w.seen_at, w.checked_at])).toEqual([
      ["w", 0, null, EARLIER, EARLIER],
      ["v1", 1, "7", NOW, NOW],
    ]);
  });

  it.each([
    [
      "never watched, still open: its state now, watched from here on",
      "running",
      null,
      ["run.status_changed"],
      [1, NOW],
    ],
    [
      "never watched, over: its state and its end, the row closed",
      "failed",
      null,
      ["run.status_changed", "run.failed"],
      [0, NOW],
    ],
    [
      "closed row, moved since: reported with its previous state",
      "running",
      row("c", "completed", { open: 0, seen_at: EARLIER }),
      ["run.status_changed"],
      [1, EARLIER],
    ],
    [
      "closed row, not moved: nothing reported, the row left alone",
      "completed",
      row("c", "completed", { open: 0 }),
      null,
      null,
    ],
  ])("seen changed, %s", (_, status, closed, types, watched) => {
    const out = withSightings(
      "run",
      compared(),
      { open: [], changed: [item("c", status)], listed: [] },
      closed ? [closed] : [],
      options,
    );
    const added = out.changes.slice(1);
    expect(added.map((c) => c.types)).toEqual(types ? [types] : []);
    if (types)
      expect(added[0]?.previous).toEqual(closed ? { status: "completed", provider_status: "completed" } : null);
    const rows = out.watch.slice(1).map((w) => [w.open, w.seen_at]);
    expect(rows).toEqual(watched ? [watched] : []);
  });

  it("reports changed sightings in order, each after the outcome's changes, and leaves the outcome it was given alone", () => {
    const given = compared();
    const snapshot = structuredClone(given);
    const out = withSightings(
      "batch",
      given,
      { open: [item("o", "in_progress")], changed: [item("c1", "completed"), item("c2", "in_progress")], listed: [] },
      [],
      options,
    );
    expect(given).toEqual(snapshot);
    expect(out.changes.map((c) => `${c.item.id} ${c.types.join("+")}`)).toEqual([
      "w run.completed",
      "c1 batch.status_changed+batch.completed",
      "c2 batch.status_changed",
    ]);
    expect(out.watch.map((w) => w.item_id)).toEqual(["w", "o", "c1", "c2"]);
  });
});

describe("withSightings: a sighted item recorded terminal is compared with its row, whatever list showed it", () => {
  const options = { now: NOW, versionOf: (i: WatchedItem) => (i.id.startsWith("v") ? "7" : null) };
  const none: WatchOutcome = { changes: [], watch: [], unwatch: [], touched: [] };
  const closed = (status: string, provider_status = status) =>
    row("x", status, { provider_status, open: 0, seen_at: EARLIER, checked_at: EARLIER });
  type List = "open" | "changed" | "listed";

  it.each<[string, "run" | "batch", List, WatchedRow | null, WatchedItem, string[] | null, (string | number)[] | null]>(
    [
      // The scan's place says nothing (listed): a recorded status does.
      [
        "listed, completed then failed",
        "run",
        "listed",
        closed("completed"),
        item("x", "failed"),
        ["run.status_changed", "run.failed"],
        ["failed", 0, EARLIER, NOW],
      ],
      [
        "listed, completed then open again: watched again",
        "run",
        "listed",
        closed("completed"),
        item("x", "running"),
        ["run.status_changed"],
        ["running", 1, EARLIER, NOW],
      ],
      [
        "listed, failed then completed",
        "run",
        "listed",
        closed("failed"),
        item("x", "completed"),
        ["run.status_changed", "run.completed"],
        ["completed", 0, EARLIER, NOW],
      ],
      [
        "listed, only the upstream's text moved: a change, no terminal type again",
        "run",
        "listed",
        closed("completed", "Completed"),
        item("x", "completed", T1, "Done"),
        ["run.status_changed"],
        ["completed", 0, EARLIER, NOW],
      ],
      [
        "listed, not moved: nothing, the row left alone",
        "run",
        "listed",
        closed("completed"),
        item("x", "completed"),
        null,
        null,
      ],
      ["listed, never recorded: nothing, as before", "run", "listed", null, item("x", "failed"), null, null],
      [
        "a batch listed, completed then failed: no terminal type for a failed batch",
        "batch",
        "listed",
        closed("completed"),
        item("x", "failed"),
        ["batch.status_changed"],
        ["failed", 0, EARLIER, NOW],
      ],
      // 8x8's open lists show an instance recorded terminal that is open again.
      [
        "seen open, recorded completed: reported and watched again, its version kept",
        "run",
        "open",
        closed("completed"),
        item("vx", "running"),
        ["run.status_changed"],
        ["running", 1, EARLIER, NOW],
      ],
      [
        "seen changed, failed then completed",
        "run",
        "changed",
        closed("failed"),
        item("x", "completed"),
        ["run.status_changed", "run.completed"],
        ["completed", 0, EARLIER, NOW],
      ],
    ],
  )("%s", (_, kind, list, recorded, seenItem, types, rewritten) => {
    const seen = { open: [], changed: [], listed: [], [list]: [seenItem] };
    const out = withSightings(kind, none, seen, recorded ? [{ ...recorded, item_id: seenItem.id }] : [], options);
    expect(out.changes.map((c) => c.types)).toEqual(types ? [types] : []);
    if (types) {
      expect(out.changes[0]?.previous).toEqual({
        status: recorded?.status,
        provider_status: recorded?.provider_status,
      });
      expect(out.changes[0]?.item).toBe(seenItem);
    }
    expect(out.watch.map((w) => [w.status, w.open, w.seen_at, w.checked_at])).toEqual(rewritten ? [rewritten] : []);
    if (list === "open") expect(out.watch[0]?.version).toBe("7");
    expect(out.unwatch).toEqual([]);
  });

  it("one D1 read covers them all: the ids of every sighting, each once, in the order sighted", () => {
    const seen = {
      open: [item("o", "running")],
      changed: [item("c", "completed"), item("o", "running")],
      listed: [item("l1", "failed"), item("c", "completed"), item("l2", "completed")],
    };
    expect(sightedIds(seen)).toEqual(["o", "c", "l1", "l2"]);
    expect(sightedIds({ open: [], changed: [], listed: [] })).toEqual([]);
  });
});

describe("sequenceAfter: where the source's counter moves", () => {
  const change = (id: string, types: Change["types"]): Change => ({ item: item(id, "running"), previous: null, types });

  it.each([
    ["no changes: it stays", [], 7, null],
    ["one change of two types", [change("a", ["run.created", "run.completed"])], 7, 9],
    ["changes from a first sequence of 0", [change("a", ["run.created"]), change("b", ["run.created"])], 0, 2],
    ["only changes without types: it stays", [change("a", [])], 3, null],
  ])("%s", (_, changes, last, expected) => {
    expect(sequenceAfter(numbered(changes, last), last)).toBe(expected);
  });
});
