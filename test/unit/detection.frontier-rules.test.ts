import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  afterPage,
  draining,
  type Frontier,
  listedVersion,
  nextPageSize,
  PAGE,
  pageAsk,
  type VersionsSeen,
  type Walk,
} from "../../src/detection/frontier-rules";
import type { LaneState } from "../../src/paging/lanes";

// The frontier's rules without a reader: how one page of the walk moves the frontier on (announcing, the page size a
// small budget shrinks and a full page grows back, 8x8's versions), and that they never change what they are given.

const T1 = "2026-11-01T00:00:01.000000Z";
const T2 = "2026-11-01T00:00:02.000000Z";
const T3 = "2026-11-01T00:00:03.000000Z";

const frontier = (at: string | null, ids: string[], hints: Partial<Frontier["hints"]> = {}): Frontier => ({
  frontierAt: at,
  frontierIds: ids,
  hints: { at: 0, span: 0, total: null, cap: 0, ...hints },
  backlog: false,
});

const walk = (f: Frontier, extra: Partial<Walk> = {}): Walk => ({
  frontier: f,
  pinned: false,
  backlog: true,
  ...extra,
});

/** Where the walk engine says the lane stopped after a page. */
const stopped: LaneState = {
  key: [T3, "\uffff", ""],
  at: 7,
  span: 1,
  total: 40,
  cap: 20,
  reach: 3,
  head: null,
  version: null,
  done: false,
};

const page = (items: { id: string; created_at: string }[], caughtUp: boolean) => ({ items, state: stopped, caughtUp });
const seen = (versions: string[], empty = false): VersionsSeen => ({ versions: new Set(versions), empty });
const two = [
  { id: "a", created_at: T2 },
  { id: "b", created_at: T3 },
];

describe("the next page's size", () => {
  it.each([
    ["no size learned: a whole PAGE, or what is still wanted", {}, 900, { size: PAGE, limit: PAGE }],
    ["no size learned, few items wanted", {}, 12, { size: PAGE, limit: 12 }],
    ["a shrunk size", { page: 20 }, 900, { size: 20, limit: 20 }],
    ["a shrunk size, fewer wanted", { page: 20 }, 5, { size: 20, limit: 5 }],
  ])("%s", (_, hints, wanted, ask) => {
    expect(pageAsk(frontier(T1, ["x"], hints), wanted)).toEqual(ask);
  });

  it.each([
    ["out of calls before anything was certain: a quarter of the limit", 500, 500, 0, false, 125],
    ["out of calls with a small limit: never below 1", 500, 3, 0, false, 1],
    ["nothing served but caught up: unchanged", 500, 500, 0, true, undefined],
    ["a full page at PAGE: unchanged", PAGE, PAGE, PAGE, false, undefined],
    ["a full page of a shrunk size: doubled", 125, 125, 125, false, 250],
    ["a full page close to PAGE: PAGE at most", 300, 300, 300, true, PAGE],
    ["a full page of a limit below the shrunk size: doubled from the size", 40, 10, 10, false, 80],
    ["a partial page of a shrunk size: unchanged", 125, 125, 124, false, undefined],
  ])("%s", (_, size, limit, served, caughtUp, next) => {
    expect(nextPageSize({ size, limit }, { served, caughtUp })).toBe(next);
  });

  it("shrinks to 1 at worst and grows back to PAGE in a few full pages, never past it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: PAGE }), fc.integer({ min: 1, max: 10_000 }), (size, wanted) => {
        const limit = Math.min(size, wanted);
        const shrunk = nextPageSize({ size, limit }, { served: 0, caughtUp: false }) as number;
        expect(shrunk).toBeGreaterThanOrEqual(1);
        expect(shrunk).toBeLessThanOrEqual(Math.max(1, limit / 4));
        let grown = shrunk;
        let pages = 0;
        while (grown < PAGE) {
          grown = nextPageSize({ size: grown, limit: grown }, { served: grown, caughtUp: false }) ?? grown;
          pages++;
          expect(grown).toBeLessThanOrEqual(PAGE);
          expect(pages).toBeLessThanOrEqual(9);
        }
      }),
      { seed: 20_261_207, numRuns: 300 },
    );
  });
});

describe("which listing the walk reads", () => {
  it.each([
    ["the default listing", walk(frontier(T1, ["x"], { version: "2" })), false, null],
    ["pinned: the frontier's own version", walk(frontier(T1, ["x"], { version: "2" }), { pinned: true }), true, "2"],
    [
      "moved on: the frontier's own version first",
      walk(frontier(T1, ["x"], { version: "2", movedTo: "3" })),
      true,
      "2",
    ],
    ["pinned without a version: the default listing", walk(frontier(T1, ["x"]), { pinned: true }), true, null],
  ])("%s", (_, w, isDraining, version) => {
    expect(draining(w)).toBe(isDraining);
    expect(listedVersion(w)).toBe(version);
  });
});

describe("the walk after one page", () => {
  const ask = { size: PAGE, limit: 2 };

  it("announces a page: the frontier advances over it and the walk reads on while newer items are left", () => {
    const step = afterPage(walk(frontier(T1, ["x"])), page(two, false), ask, null);
    expect(step.announce).toEqual(two);
    expect(step.more).toBe(true);
    expect(step.walk.backlog).toBe(true);
    expect(step.walk.frontier).toMatchObject({ frontierAt: T3, frontierIds: ["b"], hints: { at: 7, cap: 20 } });
    // A full page at PAGE leaves the size alone: no hint is written.
    expect("page" in step.walk.frontier.hints).toBe(false);
  });

  it.each([
    ["caught up", page(two, true), false, false],
    ["an empty page (out of calls)", page([], false), false, true],
  ])("stops when %s", (_, p, more, backlog) => {
    const step = afterPage(walk(frontier(T1, ["x"], { page: 40 })), p, { size: 40, limit: 40 }, null);
    expect(step.more).toBe(more);
    expect(step.walk.backlog).toBe(backlog);
  });

  it("an empty page short of the head shrinks the next check's page, and keeps the frontier where it was", () => {
    const step = afterPage(walk(frontier(T1, ["x"])), page([], false), { size: PAGE, limit: 100 }, null);
    expect(step.walk.frontier).toMatchObject({ frontierAt: T1, frontierIds: ["x"], hints: { page: 25 } });
  });

  it.each<
    [string, Frontier, VersionsSeen, { announced: boolean; pinned: boolean; version?: string; movedTo?: string }]
  >([
    [
      "the frontier's own version listed",
      frontier(T1, ["x"], { version: "2" }),
      seen(["2"]),
      { announced: true, pinned: false, version: "2" },
    ],
    [
      "a frontier without a version adopts the one listed",
      frontier(T1, ["x"]),
      seen(["4"]),
      { announced: true, pinned: false, version: "4" },
    ],
    [
      "a frontier without a version, nothing listed",
      frontier(T1, ["x"]),
      seen([], true),
      { announced: true, pinned: false },
    ],
    [
      "a newer version listed: the page is left, its own version drained first",
      frontier(T1, ["x"], { version: "2" }),
      seen(["2", "3"]),
      { announced: false, pinned: false, version: "2", movedTo: "3" },
    ],
    [
      "nothing listed although the frontier lies in a version: pinned",
      frontier(T1, ["x"], { version: "2" }),
      seen([], true),
      { announced: false, pinned: true, version: "2" },
    ],
    [
      "nothing listed and nothing announced yet: read as it is",
      frontier(null, [], { version: "2" }),
      seen([], true),
      { announced: true, pinned: false, version: "2" },
    ],
  ])("8x8: %s", (_, f, versions, expected) => {
    const step = afterPage(walk(f), page(two, false), ask, versions);
    expect(step.announce).toEqual(expected.announced ? two : []);
    expect(step.more).toBe(true);
    expect(step.walk.pinned).toBe(expected.pinned);
    expect(step.walk.frontier.hints.version).toBe(expected.version);
    expect(step.walk.frontier.hints.movedTo).toBe(expected.movedTo);
    // A page left for the other version moves nothing else.
    if (!expected.announced)
      expect(step.walk).toMatchObject({ frontier: { frontierAt: T1, frontierIds: ["x"] }, backlog: true });
  });

  it("8x8: the frontier's own version read to its end starts the newer one from its beginning, and reads on", () => {
    const hints = { version: "2", movedTo: "3", openCap: 50, marks: ["m"], page: 40, reach: 9 };
    const step = afterPage(walk(frontier(T1, ["x"], hints)), page(two, true), { size: 40, limit: 40 }, null);
    expect(step.announce).toEqual(two);
    expect(step.more).toBe(true);
    // Caps and lookup hints stay; positions, the page size and the move are the old version's.
    expect(step.walk.frontier).toEqual({
      frontierAt: null,
      frontierIds: [],
      hints: { at: 0, span: 0, total: null, cap: 20, openCap: 50, marks: ["m"], version: "3" },
      backlog: true,
    });
    // The newer version is not read yet: a walk that stops here leaves a backlog.
    expect(step.walk.backlog).toBe(true);
  });
});

/** Freezes a value and everything in it, so a rule that writes to what it is given throws. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

const instant = fc.constantFrom(T1, T2, T3);
const version = fc.option(fc.constantFrom("1", "2", "3"), { nil: undefined });

describe("the walk's rules as properties", () => {
  it("never change what they are given, announce a page whole or not at all, and keep the page size in 1..PAGE", () => {
    fc.assert(
      fc.property(
        fc.record({
          at: fc.option(instant, { nil: null }),
          version,
          movedTo: version,
          page: fc.option(fc.integer({ min: 1, max: PAGE }), { nil: undefined }),
          pinned: fc.boolean(),
          backlog: fc.boolean(),
          times: fc.array(instant, { maxLength: 6 }),
          caughtUp: fc.boolean(),
          seen: fc.option(
            fc.record({ versions: fc.uniqueArray(fc.constantFrom("1", "2", "3")), empty: fc.boolean() }),
            { nil: null },
          ),
          wanted: fc.integer({ min: 1, max: 1_000 }),
        }),
        (c) => {
          const hints = {
            ...(c.version === undefined ? {} : { version: c.version }),
            ...(c.movedTo === undefined ? {} : { movedTo: c.movedTo }),
            ...(c.page === undefined ? {} : { page: c.page }),
          };
          const start = walk(frontier(c.at, c.at ? ["x"] : [], hints), { pinned: c.pinned, backlog: c.backlog });
          const ask = pageAsk(start.frontier, c.wanted);
          const items = [...c.times].sort().map((created_at, i) => ({ id: `n${i}`, created_at }));
          const versions = c.seen && { versions: new Set(c.seen.versions), empty: c.seen.empty };
          const before = structuredClone(start);
          const step = afterPage(deepFreeze(start), deepFreeze(page(items, c.caughtUp)), ask, versions);
          expect(start).toEqual(before);
          expect(step.announce === items || step.announce.length === 0).toBe(true);
          const size = step.walk.frontier.hints.page;
          if (size !== undefined) expect(size >= 1 && size <= PAGE).toBe(true);
          // A page left unannounced moves only the version hints, and the walk reads on.
          if (items.length > 0 && step.announce.length === 0) {
            expect(step.more).toBe(true);
            expect(step.walk.frontier.frontierAt).toBe(start.frontier.frontierAt);
          }
        },
      ),
      { seed: 20_261_207, numRuns: 500 },
    );
  });
});
