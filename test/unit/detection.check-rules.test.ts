import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { watchRow } from "../../src/detection/changes";
import {
  conclusion,
  hintsAfterLookup,
  LOOKUP_EVERY_MS,
  lookupAsk,
  lookupPlan,
  openAfter,
  segmentOf,
} from "../../src/detection/check-rules";
import type { Frontier } from "../../src/detection/frontier-rules";
import type { DetectionHints, WatchedRow } from "../../src/detection/store";
import type { Run } from "../../src/schemas/run";

// One check's rules besides the items' own: whether it reads the watched items again and with what share of its
// calls, what it asks that lookup and carries to the next check, how many items stay watched, what it commits and
// reports.

const NOW_MS = Date.UTC(2026, 11, 1);
const NOW = "2026-12-01T00:00:00.000000Z";
const HINTS: DetectionHints = { at: 3, span: 1, total: 40, cap: 0 };

const row = (id: string, open: number): WatchedRow => ({
  ...watchRow({ id, status: open ? "running" : "completed", provider_status: "x", created_at: NOW } as Run, NOW),
  open,
});

describe("lookupPlan: whether the watched items are read again, and the new items' share of the calls", () => {
  const plan = (backlog: boolean, lookedAgo: number | undefined, watched: number, pushed: number, limit = 10) =>
    lookupPlan(
      { backlog, hints: { ...HINTS, ...(lookedAgo === undefined ? {} : { lookedAt: NOW_MS - lookedAgo }) } },
      { watched, pushed },
      limit,
      NOW_MS,
    );

  it.each([
    [
      "no backlog: every check reads them, and keeps half the calls",
      false,
      1_000,
      3,
      0,
      10,
      { lookup: true, share: 5 },
    ],
    [
      "a backlog continued soon after the last lookup: left to a later check",
      true,
      1_000,
      3,
      0,
      10,
      { lookup: false, share: 10 },
    ],
    ["a backlog, the last lookup a while ago", true, LOOKUP_EVERY_MS, 3, 0, 10, { lookup: true, share: 5 }],
    ["a backlog, never looked up", true, undefined, 3, 0, 10, { lookup: true, share: 5 }],
    ["a backlog continued soon, but a push names an item", true, 1_000, 4, 1, 10, { lookup: true, share: 5 }],
    [
      "nothing watched: a lookup still runs (Inkit's scan), with every call for new items",
      false,
      1_000,
      0,
      0,
      10,
      { lookup: true, share: 10 },
    ],
    ["an odd budget: the new items' half is rounded up", false, 1_000, 3, 0, 9, { lookup: true, share: 5 }],
  ])("%s", (_, backlog, ago, watched, pushed, limit, expected) => {
    expect(plan(backlog, ago, watched, pushed, limit)).toEqual(expected);
  });

  it("never gives the new items more than the budget, nor less than half of it", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.option(fc.nat(200_000), { nil: undefined }),
        fc.nat(50),
        fc.nat(3),
        fc.integer({ min: 1, max: 1_000 }),
        (backlog, ago, watched, pushed, limit) => {
          const { lookup, share } = plan(backlog, ago, watched, pushed, limit);
          expect(share).toBeLessThanOrEqual(limit);
          expect(share).toBeGreaterThanOrEqual(limit / 2);
          if (!lookup) expect(share).toBe(limit);
          if (pushed > 0 || !backlog) expect(lookup).toBe(true);
        },
      ),
      { seed: 20_261_207, numRuns: 300 },
    );
  });
});

describe("lookupAsk and hintsAfterLookup: what the lookup is asked, and what it leaves the next check", () => {
  const watched = [row("a", 1)];

  it("asks with what the last lookup left, and defaults where it left nothing", () => {
    expect(lookupAsk(watched, HINTS, undefined)).toEqual({ watched, baseline: false, openCap: 0, marks: [], turn: 0 });
    expect("latest" in lookupAsk(watched, HINTS, undefined)).toBe(false);
    const hints = { ...HINTS, openCap: 80, marks: ["m1", "m2"], turn: 5 };
    expect(lookupAsk(watched, hints, "3")).toEqual({
      watched,
      baseline: false,
      openCap: 80,
      marks: ["m1", "m2"],
      turn: 5,
      latest: "3",
    });
  });

  it.each([
    ["new marks replace the last ones", ["n1"], ["m1"], ["n1"]],
    ["no new marks: the last ones stay", [], ["m1"], ["m1"]],
    ["no marks at all", [], undefined, []],
  ])("%s", (_, marks, before, kept) => {
    const hints = { ...HINTS, ...(before ? { marks: before } : {}) };
    expect(hintsAfterLookup({ openCap: 40, marks, turn: 2 }, hints, NOW_MS)).toEqual({
      openCap: 40,
      marks: kept,
      lookedAt: NOW_MS,
      turn: 2,
    });
  });
});

describe("segmentOf: an 8x8 check's segment of the open rows, and the start times its open lists are read within", () => {
  // Rows as the claim reads them: newest first, one more than the share when more lie below.
  const at = (minute: number) => `2026-12-01T00:${String(minute).padStart(2, "0")}:00.000000Z`;
  const open = (minute: number, id = `r${minute}`): WatchedRow => ({ ...row(id, 1), created_at: at(minute) });
  const read = (...minutes: number[]) => minutes.map((m) => open(m));

  it.each([
    {
      what: "the top, with more below: up to the frontier, down to its oldest row; the next starts below that row",
      rows: read(50, 40, 30, 20),
      share: 3,
      hints: {},
      frontierAt: at(55),
      expected: { rows: 3, range: { from: at(30), to: at(55), last: false }, below: { at: at(30), id: "r30" } },
    },
    {
      what: "below the top, with more below: up to where the last segment ended",
      rows: read(25, 20, 10, 5),
      share: 3,
      hints: { below: { at: at(30), id: "r30" } },
      frontierAt: at(55),
      expected: { rows: 3, range: { from: at(10), to: at(30), last: false }, below: { at: at(10), id: "r10" } },
    },
    {
      what: "the last segment: down to the bottom, and the next starts at the top",
      rows: read(25, 20),
      share: 3,
      hints: { below: { at: at(30), id: "r30" } },
      frontierAt: at(55),
      expected: { rows: 2, range: { from: null, to: at(30), last: true } },
    },
    {
      what: "no row below the last segment's end: the rest of the start times, then the top",
      rows: [],
      share: 3,
      hints: { below: { at: at(30), id: "r30" } },
      frontierAt: at(55),
      expected: { rows: 0, range: { from: null, to: at(30), last: true } },
    },
    {
      what: "one segment holds every row: every start time up to the frontier",
      rows: read(50, 40),
      share: 3,
      hints: {},
      frontierAt: at(55),
      expected: { rows: 2, range: { from: null, to: at(55), last: true } },
    },
    {
      what: "a row newer than the frontier: the range reaches it",
      rows: read(58, 40),
      share: 3,
      hints: {},
      frontierAt: at(55),
      expected: { rows: 2, range: { from: null, to: at(58), last: true } },
    },
    {
      what: "no frontier (an empty listing at the baseline) and no row: every start time",
      rows: [],
      share: 3,
      hints: {},
      frontierAt: null,
      expected: { rows: 0, range: { from: null, to: null, last: true } },
    },
  ])("$what", ({ rows, share, hints, frontierAt, expected }) => {
    const segment = segmentOf(rows, share, hints, frontierAt);
    expect(segment.rows).toEqual(rows.slice(0, expected.rows));
    expect(segment.range).toEqual(expected.range);
    expect(segment.below).toEqual(expected.below);
  });

  it("a pass of segments holds every open row once, and its ranges cover every start time up to the frontier", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        (minutes, share) => {
          // Ties: two rows at each start time.
          const all = minutes
            .flatMap((m) => [open(m, `a${m}`), open(m, `b${m}`)])
            .sort((x, y) =>
              x.created_at === y.created_at ? (x.item_id < y.item_id ? 1 : -1) : x.created_at < y.created_at ? 1 : -1,
            );
          const frontierAt = at(59);
          let hints: { below?: { at: string; id: string } } = {};
          const seen: string[] = [];
          const ranges: { from: string | null; to: string | null }[] = [];
          for (let checks = 0; checks <= all.length + 1; checks++) {
            // What the claim reads: rows below the last end in (created_at, item_id), newest first, share + 1.
            const below = hints.below;
            const rows = all
              .filter((r) => !below || r.created_at < below.at || (r.created_at === below.at && r.item_id < below.id))
              .slice(0, share + 1);
            const segment = segmentOf(rows, share, hints, frontierAt);
            seen.push(...segment.rows.map((r) => r.item_id));
            ranges.push(segment.range);
            for (const r of segment.rows) {
              const { from, to } = segment.range;
              expect((from === null || r.created_at >= from) && (to === null || r.created_at <= to)).toBe(true);
            }
            if (segment.range.last) break;
            hints = { below: segment.below };
          }
          expect(seen.sort()).toEqual(all.map((r) => r.item_id).sort());
          // Consecutive ranges meet: each reaches up to where the one before it reached down.
          expect(ranges[0]?.to).toBe(frontierAt);
          for (let i = 1; i < ranges.length; i++) expect(ranges[i]?.to).toBe(ranges[i - 1]?.from);
          expect(ranges.at(-1)?.from).toBeNull();
        },
      ),
    );
  });
});

describe("openAfter: the items watched open once the rows are applied", () => {
  it.each([
    ["nothing changes", [row("a", 1), row("b", 1)], [], [], 2],
    ["one closes", [row("a", 1), row("b", 1)], [row("a", 0)], [], 1],
    ["one is dropped", [row("a", 1), row("b", 1)], [], ["b"], 1],
    ["a new one is watched, a closed one opens again", [row("a", 1), row("c", 0)], [row("n", 1), row("c", 1)], [], 3],
    ["a row written and dropped in one check counts as dropped", [row("a", 1)], [row("n", 1)], ["n"], 1],
  ])("%s", (_, watched, watch, unwatch, open) => {
    expect(openAfter(watched, { watch, unwatch })).toBe(open);
  });

  // A check that read a share of the open rows: 10 open in all, of which it read a and b (x: a recorded row it read).
  it.each([
    ["nothing changes", [], [], 10],
    ["one it read closes", [row("a", 0)], [], 9],
    ["one it did not read, seen by the lookup, closes", [row("x", 0)], [], 9],
    ["a closed one it saw opens again, and a new one is watched", [row("c", 1), row("n", 1)], [], 12],
    ["one it read is dropped, one written twice counts once", [row("n", 1), row("n", 1)], ["b"], 10],
  ])("with a share read: %s", (_, watch, unwatch, open) => {
    const known = [row("a", 1), row("b", 1), row("x", 1), row("c", 0)];
    expect(openAfter(known, { watch, unwatch }, 10)).toBe(open);
  });
});

describe("conclusion: what a check commits and reports", () => {
  const key = { source: "inkit:runs", credential: "configured" };
  const state: Frontier = { frontierAt: NOW, frontierIds: ["r"], hints: HINTS, backlog: true };
  const c = { version: 4, state, lastSequence: 10 };
  const rows = { watch: [row("a", 1)], unwatch: ["z"], touched: ["t"] };
  const report = { outcome: "checked" as const, created: 2, watched: 5, horizonStart: "2026-11-01T00:00:00.000000Z" };

  it("commits the frontier, the rows, the figures and the sequence under the lease, and reports the same figures", () => {
    const { commitment, result } = conclusion({ key, lease: "L", now: NOW }, c, rows, report, {
      calls: 7,
      events: 3,
      sequence: 12,
    });
    expect(commitment).toEqual({
      key,
      version: 4,
      lease: "L",
      now: NOW,
      state,
      watch: rows.watch,
      unwatch: ["z"],
      touched: ["t"],
      horizonStart: report.horizonStart,
      sequence: 12,
      figures: { calls: 7, created: 2, events: 3, watched: 5 },
    });
    expect(result).toEqual({
      source: "inkit:runs",
      outcome: "checked",
      created: 2,
      events: 3,
      calls: 7,
      backlog: true,
      moreOpen: false,
      watched: 5,
    });
    expect("error" in result).toBe(false);
    // The queue consumer logs the result's fields as they come: in this order.
    expect(Object.keys(result)).toEqual([
      "source",
      "outcome",
      "created",
      "events",
      "calls",
      "backlog",
      "moreOpen",
      "watched",
    ]);
    const more = conclusion(
      { key, lease: "L", now: NOW },
      c,
      rows,
      { ...report, moreOpen: true },
      {
        calls: 7,
        events: 3,
        sequence: 12,
      },
    );
    expect(more.result.moreOpen).toBe(true);
  });

  it("a baseline reports nothing created, and a sequence that did not move commits none", () => {
    const baseline = { outcome: "baseline" as const, watched: 1, horizonStart: "" };
    const { commitment, result } = conclusion({ key, lease: "L", now: NOW }, c, rows, baseline, {
      calls: 2,
      events: 0,
      sequence: null,
    });
    expect(commitment.figures.created).toBe(0);
    expect(commitment.sequence).toBeNull();
    expect(result).toMatchObject({ outcome: "baseline", created: 0, events: 0, calls: 2 });
  });

  it.each([
    ["an Error: its message", new Error("upstream 503"), "upstream 503"],
    ["anything else: as text", "timeout", "timeout"],
    ["no failure", null, undefined],
    ["an Error without a message: nothing to report", new Error(""), undefined],
  ])("a failure met midway, %s", (_, error, message) => {
    const { result } = conclusion(
      { key, lease: "L", now: NOW },
      c,
      rows,
      { ...report, outcome: "partial", error },
      {
        calls: 1,
        events: 0,
        sequence: null,
      },
    );
    expect(result.error).toBe(message);
    expect("error" in result).toBe(message !== undefined);
    if (message !== undefined) expect(Object.keys(result).at(-1)).toBe("error");
  });
});
