import { describe, expect, it } from "vitest";
import {
  decide,
  type LaneSummary,
  type LaneView,
  repairs,
  roomIn,
  summarizeBackward,
  summarizeForward,
} from "../../src/paging/assemble";
import type { Keyed, Keyset } from "../../src/paging/order";
import {
  firstReads,
  freshLane,
  type LaneResult,
  type LaneState,
  leanOpening,
  nextPositions,
  openingWindow,
  positionAt,
} from "../../src/paging/positions";

// The pure core of a walk, tested with tables of examples in the manner of graphql-relay-js's arrayConnection
// tests: plain values in, plain values out, no server. Times are two-digit strings (string order is time order);
// lists are newest first ("desc") unless said otherwise. The property tests (walk.property.test.ts) cover the same
// functions through whole walks.

type Item = Keyed;
/** `"b@08"` is the item with id `b` created at `08`. */
const it_ = (spec: string): Item => {
  const [id, created_at] = spec.split("@") as [string, string];
  return { id, created_at };
};
const items = (specs: string) => (specs === "" ? [] : specs.split(" ").map(it_));
const ids = (list: Item[]) => list.map((i) => `${i.id}@${i.created_at}`).join(" ");
const key = (spec: string): Keyset => [it_(spec).created_at, "", it_(spec).id];
/** A view at `start`; `responses` numbers the upstream response of each item (all one by default). */
const view = (start: number, specs: string, atEnd: boolean, responses?: number[], oneSnapshot?: boolean) => {
  const list = items(specs);
  return { start, items: list, response: responses ?? list.map(() => 0), atEnd, oneSnapshot } as LaneView<Item>;
};

describe("summarizeForward: what a lane offers after its key, and how far it is known", () => {
  it.each([
    {
      case: "first page: the last tie group is unfinished, so it is the frontier",
      view: view(0, "a@09 b@08 c@07", false),
      key: null,
      want: { candidates: "a@09 b@08", frontier: "07", anchored: true, mixed: [] },
    },
    {
      case: "the list's end is read: everything is a candidate",
      view: view(0, "a@09 b@08 c@07", true),
      key: null,
      want: { candidates: "a@09 b@08 c@07", frontier: "none", anchored: true, mixed: [] },
    },
    {
      case: "after a key: older groups skipped, the key's group only past the key",
      view: view(5, "x@09 c@08 b@08 d@07 e@06", false),
      key: "c@08",
      want: { candidates: "b@08 d@07", frontier: "06", anchored: true, mixed: [] },
    },
    {
      case: "a view that starts inside the key's group cannot prove what came before it",
      view: view(5, "b@08 d@07", false),
      key: "c@08",
      want: { candidates: "b@08", frontier: "07", anchored: false, mixed: [] },
    },
    {
      case: "a group cut between two responses is read again as one",
      view: view(0, "a@09 b@08 c@08 d@07", false, [0, 0, 1, 1]),
      key: null,
      want: { candidates: "a@09 b@08 c@08", frontier: "07", anchored: true, mixed: [["08", 1, 3]] },
    },
    {
      case: "…unless both responses came from one snapshot and no id repeats",
      view: view(0, "a@09 b@08 c@08 d@07", false, [0, 0, 1, 1], true),
      key: null,
      want: { candidates: "a@09 b@08 c@08", frontier: "07", anchored: true, mixed: [] },
    },
    {
      case: "an id served twice by two responses is served once",
      view: view(0, "a@09 b@08 b@08 d@07", true, [0, 0, 1, 1], true),
      key: null,
      want: { candidates: "a@09 b@08 d@07", frontier: "none", anchored: true, mixed: [["08", 1, 3]] },
    },
  ])("$case", ({ view: v, key: k, want }) => {
    const s = summarizeForward(v, { key: k ? key(k) : null, head: null }, "desc");
    expect({
      candidates: ids(s.candidates),
      frontier: s.frontier,
      anchored: s.anchored,
      mixed: s.mixed.map((r) => [r.createdAt, r.from, r.to]),
    }).toEqual(want);
  });

  it("leaves out items newer than the lane's head (they arrived after the walk began)", () => {
    const s = summarizeForward(view(0, "n@10 a@09 b@08", true), { key: null, head: "09" }, "desc");
    expect(ids(s.candidates)).toBe("a@09 b@08");
  });

  it("stops at an item the facade's filter says no later item can pass", () => {
    const filter = (item: Item) => (item.created_at < "08" ? "stop" : item.id === "b" ? "skip" : "keep");
    const s = summarizeForward(view(0, "a@09 b@08 c@08 d@07 e@06", false), { key: null, head: null, filter }, "desc");
    expect([ids(s.candidates), s.frontier]).toEqual(["a@09 c@08", "none"]);
  });

  it("walks oldest first the same way", () => {
    const s = summarizeForward(view(0, "a@01 b@02 c@02 d@03", false), { key: key("b@02"), head: null }, "asc");
    expect([ids(s.candidates), s.frontier]).toEqual(["c@02", "03"]);
  });
});

describe("summarizeBackward: what a lane offers before its key, and back to where it is known", () => {
  it.each([
    {
      case: "from the list's start: everything before the key",
      view: view(0, "a@09 b@08 c@07 d@06", false),
      key: "c@07",
      want: { candidates: "a@09 b@08", frontier: "none", anchored: true },
    },
    {
      case: "a view that starts inside the list: its first group may begin before it",
      view: view(3, "a@09 b@08 c@07 d@06", false),
      key: "c@07",
      want: { candidates: "b@08", frontier: "09", anchored: true },
    },
    {
      case: "a view that ends inside the key's group cannot prove what follows it",
      view: view(0, "a@09 b@08 c@07", false),
      key: "c@07",
      want: { candidates: "a@09 b@08", frontier: "none", anchored: false },
    },
  ])("$case", ({ view: v, key: k, want }) => {
    const s = summarizeBackward(v, { key: key(k), head: null }, "desc");
    expect({ candidates: ids(s.candidates), frontier: s.frontier, anchored: s.anchored }).toEqual(want);
  });
});

describe("decide: a page once it is certain, or the lanes to read further", () => {
  const lane = (candidates: string, frontier: string): LaneSummary<Item> => ({
    candidates: items(candidates),
    frontier,
    anchored: true,
    mixed: [],
  });
  it.each([
    {
      case: "one lane read to its end: the first `limit`, and more follow",
      lanes: [lane("a@09 b@08 c@07", "none")],
      limit: 2,
      want: { ready: true, items: "a@09 b@08", more: true },
    },
    {
      case: "one lane read to its end, exactly `limit` left: the last page",
      lanes: [lane("a@09 b@08 c@07", "none")],
      limit: 3,
      want: { ready: true, items: "a@09 b@08 c@07", more: false },
    },
    {
      case: "two lanes merged: every candidate comes before both frontiers",
      lanes: [lane("a@09 c@07", "05"), lane("b@08", "06")],
      limit: 2,
      want: { ready: true, items: "a@09 b@08", more: true },
    },
    {
      case: "`limit` certain and an unfinished group known to follow: the page, without proving the next item",
      lanes: [lane("a@09 b@08", "07")],
      limit: 2,
      want: { ready: true, items: "a@09 b@08", more: true },
    },
    {
      case: "a lane not read at all blocks even the first item",
      lanes: [lane("a@09 c@07", "05"), lane("", "unknown")],
      limit: 2,
      want: { ready: false, extend: [1] },
    },
    {
      case: "only the lanes whose unread items could come first are read",
      lanes: [lane("a@09", "08"), lane("", "07"), lane("", "03")],
      limit: 2,
      want: { ready: false, extend: [0] },
    },
    {
      case: "nothing left to serve: the lane whose unread items are newest",
      lanes: [lane("", "05"), lane("", "07")],
      limit: 2,
      want: { ready: false, extend: [1] },
    },
    {
      case: "every lane ended: what there is",
      lanes: [lane("b@08", "none"), null, lane("a@09", "none")],
      limit: 5,
      want: { ready: true, items: "a@09 b@08", more: false },
    },
  ])("$case", ({ lanes, limit, want }) => {
    const d = decide(lanes, limit, "desc", false);
    expect(d.ready ? { ready: true, items: ids(d.items.map((x) => x.item)), more: d.more } : d).toEqual(want);
  });

  it("reads no more blocking lanes in one round than a wave, nor than could still complete the page", () => {
    const blocked = [lane("a@09", "unknown"), lane("", "unknown"), lane("", "unknown"), lane("", "unknown")];
    expect(decide(blocked, 10, "desc", false, 2)).toEqual({ ready: false, extend: [0, 1] });
    // A page of 1 needs its item and the one after: two lanes can complete it, the third would not be needed.
    const nearlyKnown = [lane("a@09", "08"), lane("", "unknown"), lane("", "unknown"), lane("", "unknown")];
    expect(decide(nearlyKnown, 1, "desc", false, 6)).toEqual({ ready: false, extend: [1, 2] });
  });

  it("backward: the last `limit` before the key, in the list's order", () => {
    const d = decide([lane("a@09 b@08 c@07", "none")], 2, "desc", true);
    expect(d.ready && [ids(d.items.map((x) => x.item)), d.more]).toEqual(["b@08 c@07", true]);
  });

  it("names which lane supplied each item", () => {
    const d = decide([lane("a@09 c@07", "none"), lane("b@08", "none")], 3, "desc", false);
    expect(d.ready && d.items.map((x) => x.lane)).toEqual([0, 1, 0]);
  });
});

describe("repairs: what must be read before deciding", () => {
  it("lanes whose view lacks their position, and groups served by two responses", () => {
    const group = { createdAt: "08", from: 1, to: 3, mixed: true };
    const summaries: (LaneSummary<Item> | null)[] = [
      null,
      { candidates: [], frontier: "unknown", anchored: false, mixed: [group] },
      { candidates: [], frontier: "07", anchored: true, mixed: [group] },
      { candidates: [], frontier: "07", anchored: true, mixed: [] },
    ];
    expect(repairs(summaries)).toEqual({ anchor: [1], settle: [[2, [group]]] });
  });
});

describe("openingWindow: what a page reads first of a lane", () => {
  const at = (state: Partial<LaneState>): LaneState => ({ ...freshLane(key("k@08")), ...state });
  it.each([
    {
      case: "a first page: the page and the item that says more follow",
      state: freshLane(),
      backward: false,
      want: [0, 11],
    },
    {
      case: "forward: from one item before the key's group, the group, the page, one after",
      state: at({ at: 40, span: 3 }),
      backward: false,
      want: [39, 15],
    },
    {
      case: "forward from inside its group: only the rest of it comes first",
      state: at({ at: 40, span: 3, rank: 1 }),
      backward: false,
      want: [39, 13],
    },
    {
      case: "backward: up to one item after the key's group",
      state: at({ at: 40, span: 3 }),
      backward: true,
      want: [29, 15],
    },
    { case: "backward near the list's start", state: at({ at: 2, span: 3 }), backward: true, want: [0, 6] },
  ])("$case", ({ state, backward, want }) => {
    const { from, count } = openingWindow(state, 10, backward);
    expect([from, count]).toEqual(want);
  });
});

describe("leanOpening: a first page of many unshared lanes reads a few items of each", () => {
  it.each([
    { case: "100 sources at limit 50: 2 items each", lanes: 100, limit: 50, room: 1000, want: 2 },
    { case: "an even share of the page when it is more than 2", lanes: 10, limit: 50, room: 1000, want: 6 },
    {
      case: "no more lanes than a wave of connections: the usual opening",
      lanes: 6,
      limit: 50,
      room: 1000,
      want: null,
    },
    { case: "no room for twice the lanes' calls: the usual opening", lanes: 100, limit: 50, room: 199, want: null },
    { case: "a page of 1 reads 2 of each anyway: the usual opening", lanes: 7, limit: 1, room: 1000, want: null },
  ])("$case", ({ lanes, limit, room, want }) => {
    expect(leanOpening(lanes, limit, room)).toBe(want);
  });

  it("reads at most `limit + 3 × lanes` items when each lane's opening read takes one more to see what follows", () => {
    for (const lanes of [7, 10, 50, 100, 500])
      for (const limit of [1, 10, 50, 100]) {
        const share = leanOpening(lanes, limit, Number.POSITIVE_INFINITY);
        if (share !== null && share <= 2) expect(lanes * (share + 1)).toBeLessThanOrEqual(limit + 3 * lanes);
      }
  });
});

describe("roomIn: how many more of a lane's items a page could still take", () => {
  const lane = (specs: string, frontier: string): LaneSummary<Item> => ({
    candidates: items(specs),
    frontier,
    anchored: true,
    mixed: [],
  });
  it.each([
    {
      case: "the page and its proof, less every candidate before the lane's frontier",
      lanes: [lane("a@09 c@07", "05"), lane("b@08", "06")],
      target: 1,
      want: 2,
    },
    {
      case: "candidates at or after the frontier do not count",
      lanes: [lane("a@09", "08"), lane("b@08 c@07", "none")],
      target: 0,
      want: 4,
    },
    {
      case: "a lane fully known takes nothing more",
      lanes: [lane("a@09", "none"), lane("b@08", "07")],
      target: 0,
      want: 0,
    },
    { case: "never below 0", lanes: [lane("a@09 b@08 c@07 d@06 e@05", "04"), lane("", "05")], target: 0, want: 0 },
  ])("$case", ({ lanes, target, want }) => {
    expect(roomIn(lanes, target, 4, "desc")).toBe(want);
  });

  it("an unknown frontier: less the lane's own candidates, which come before its unread items", () => {
    expect(roomIn([lane("a@09 b@08", "unknown"), lane("c@07", "none")], 0, 4, "desc")).toBe(3);
  });
});

describe("positionAt: where a lane stands at a key, from what was read", () => {
  const read = (v: LaneView<Item>) => ({ view: v, total: 100, cap: 40 });

  it("records the key's group (offset, span), the hints, and how far into the group the key is", () => {
    const state = positionAt(read(view(10, "x@09 b@08 c@08 d@07", false)), freshLane(), key("c@08"), "desc");
    expect(state).toEqual({
      key: key("c@08"),
      at: 11,
      span: 2,
      total: 100,
      cap: 40,
      head: null,
      version: null,
      done: false,
      rank: 1,
    });
  });

  it("a key that ends its group has no rank", () => {
    expect(positionAt(read(view(10, "x@09 c@08 b@08 d@07", false)), freshLane(), key("b@08"), "desc").rank).toBe(
      undefined,
    );
  });

  it("at the list's start it finds the lane's head and version; afterwards it keeps them", () => {
    const versionOf = (item: Item) => `v-${item.id}`;
    const first = positionAt(read(view(0, "a@09 b@08", false)), freshLane(), key("a@09"), "desc", versionOf);
    expect([first.head, first.version, first.at, first.span]).toEqual(["09", "v-a", 0, 1]);
    const later = positionAt(read(view(50, "c@05", false)), first, key("c@05"), "desc", versionOf);
    expect([later.head, later.version, later.at]).toEqual(["09", "v-a", 50]);
  });
});

describe("nextPositions: every lane's state at a page's edge", () => {
  const edge = key("b@08");
  const state = (s: Partial<LaneState> = {}): LaneState => ({ ...freshLane(key("z@10")), head: "10", ...s });
  const read = (v: LaneView<Item>): LaneResult<Item> => ({ kind: "read", read: { view: v, total: null, cap: 0 } });

  it("moves lanes that were not read with the walk, keeps a failed one's place, leaves absent lanes out", () => {
    const states = [state(), state(), state({ at: 7 }), null];
    const results: LaneResult<Item>[] = [
      { kind: "skipped" },
      { kind: "deferred", next: "05" },
      { kind: "failed", error: new Error("502") },
      { kind: "skipped" },
    ];
    expect(nextPositions(results, states, [{}, {}, {}, {}], edge, "desc", true)).toEqual([
      { ...state(), key: edge },
      { ...state(), key: edge },
      state({ at: 7 }),
      null,
    ]);
  });

  it("forward: a read lane carries how new its next item can be, or that it is done", () => {
    const results = [
      read(view(3, "a@09 b@08 c@07 d@06", false)),
      read(view(3, "b2@08 e@05", false)),
      read(view(3, "a2@09", true)),
      read(view(0, "", true)),
    ];
    const states = [state(), state(), state(), state({ head: null })];
    const [withNext, unfinished, done, empty] = nextPositions(results, states, [{}, {}, {}, {}], edge, "desc", true);
    expect(withNext?.next).toBe("07"); // its next candidate, c@07
    expect(unfinished?.next).toBe("05"); // e@05's group may continue past the view: no candidate, only the frontier
    expect(done?.done).toBe(true);
    expect(empty).toBe(null); // no item at all when the walk began
  });

  it("a previous-page edge only records positions", () => {
    const [s] = nextPositions([read(view(3, "a@09 b@08 c@07", false))], [state()], [{}], edge, "desc", false);
    expect([s?.at, s?.span, s?.next, s?.done]).toEqual([4, 1, undefined, false]);
  });
});

describe("firstReads: which lanes a page reads first", () => {
  const lanes = [{}, { empty: true }, {}, {}];
  const states = [freshLane(), freshLane(), { ...freshLane(), done: true }, { ...freshLane(), next: "07" }];
  it.each([
    {
      case: "forward on a feed: done and empty lanes are not read, known next items wait",
      backward: false,
      want: { read: [0], deferred: [[3, "07"]] },
    },
    { case: "backward: every lane with items is read", backward: true, want: { read: [0, 2, 3], deferred: [] } },
  ])("$case", ({ backward, want }) => {
    expect(firstReads(lanes, states, backward)).toEqual(want);
  });

  it("a single lane is always read", () => {
    expect(firstReads([{}], [{ ...freshLane(), next: "07" }], false)).toEqual({ read: [0], deferred: [] });
  });
});
