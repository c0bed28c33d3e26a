import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  advance,
  announced,
  type Frontier,
  frontierLane,
  readHead,
  readSinceFrontier,
} from "../../src/detection/frontier";
import type { OffsetReader } from "../../src/paging/offset-reader";
import { fuzz } from "../support/fuzz";
import { build, type Item, scenario } from "./support/upstream-model";

// Change detection's walk against in-memory upstreams that do everything their docs allow (support/upstream-model):
// ties in an order unrelated to ids, stable or changing with the request's window; a silent page-size cap; head
// inserts that tie with the head and with each other, between checks and in the middle of a check's reads.

const frontier = (at: string | null, ids: string[], hints: Partial<Frontier["hints"]> = {}): Frontier => ({
  frontierAt: at,
  frontierIds: ids,
  hints: { at: 0, span: 0, total: null, cap: 0, ...hints },
  backlog: false,
});

const T1 = "2026-11-01T00:00:01.000000Z";
const T2 = "2026-11-01T00:00:02.000000Z";

describe("the frontier, by example", () => {
  it.each([
    ["older than the frontier", { id: "a", created_at: T1 }, frontier(T2, ["b"]), true],
    ["announced at its instant", { id: "b", created_at: T2 }, frontier(T2, ["b"]), true],
    ["at its instant, not announced (a late tie)", { id: "c", created_at: T2 }, frontier(T2, ["b"]), false],
    ["newer", { id: "d", created_at: "2026-11-01T00:00:03.000000Z" }, frontier(T2, ["b"]), false],
    ["anything, when the listing was empty", { id: "e", created_at: T1 }, frontier(null, []), false],
  ])("an item %s: announced = %s", (_, item, f, expected) => {
    expect(announced(f, item)).toBe(expected);
  });

  it("advancing keeps the ids of an instant announced in parts, and forgets them once the instant is passed", () => {
    const lane = frontierLane(frontier(T1, ["a"], { at: 7, span: 2, total: 40, cap: 20 }));
    expect(lane).toMatchObject({ key: [T1, "\uffff", ""], at: 7, span: 2, total: 40, cap: 20, head: null });
    const same = advance(frontier(T1, ["a"]), [{ id: "b", created_at: T1 }], { ...lane, at: 5, span: 3 });
    expect(same).toMatchObject({ frontierAt: T1, frontierIds: ["a", "b"], hints: { at: 5, span: 3 } });
    const later = advance(
      same,
      [
        { id: "c", created_at: T1 },
        { id: "d", created_at: T2 },
      ],
      lane,
    );
    expect(later).toMatchObject({ frontierAt: T2, frontierIds: ["d"] });
    expect(advance(later, [], lane)).toMatchObject({ frontierAt: T2, frontierIds: ["d"] });
  });
});

/** Counts calls, and inserts at the head in the middle of a read when asked to. */
function instrumented(reader: OffsetReader<Item>, onCall: () => void): OffsetReader<Item> {
  return {
    read: async (...args) => {
      onCall();
      return reader.read(...args);
    },
    ties:
      reader.ties &&
      (async (...args) => {
        onCall();
        return (reader.ties as NonNullable<OffsetReader<Item>["ties"]>)(...args);
      }),
  };
}

/**
 * The contract's scope: a check's calls must be able to read the widest tie group (60 items here) a few times over,
 * whatever the upstream's silent cap, or no check could ever get past it. The README states this limit.
 */
const WIDEST_GROUP = 60;

const walkCase = fc
  .record({
    s: scenario.map((s) => ({ ...s, lanes: s.lanes.slice(0, 1), filtered: false })),
    perCheck: fc.integer({ min: 1, max: 120 }),
    callsPerCheck: fc.integer({ min: 8, max: 30 }),
    bursts: fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 4 }),
    during: fc.boolean(),
  })
  .map((c) =>
    c.s.big && c.s.cap !== null
      ? { ...c, callsPerCheck: Math.max(c.callsPerCheck, Math.ceil((4 * WIDEST_GROUP) / c.s.cap)) }
      : c,
  );

describe("change detection's walk property (no simulator)", () => {
  it("every item newer than the baseline is announced exactly once, oldest first, whatever the upstream does", async () => {
    let cases = 0;
    await fuzz(
      "detection.unit.frontier",
      fc.asyncProperty(walkCase, async ({ s, perCheck, callsPerCheck, bursts, during }) => {
        cases++;
        const { ups, lanes, insert } = build(s);
        const up = ups[0]?.up as NonNullable<(typeof ups)[0]>["up"];
        let calls = 0;
        let pendingInsert = 0;
        const open = () =>
          instrumented((lanes[0] as NonNullable<(typeof lanes)[0]>).open(null, null), () => {
            calls++;
            // A few items arrive in the middle of a check, between two of its upstream calls.
            if (pendingInsert > 0 && calls % 3 === 0) {
              insert(pendingInsert);
              pendingInsert = 0;
            }
          });
        const head = await readHead(open(), 100);
        const before = new Set(up.items.filter((i) => announced(head.frontier, i)).map((i) => i.id));
        let state = head.frontier;
        const served: Item[] = [];
        for (const [b, burst] of bursts.entries()) {
          insert(burst);
          if (during) pendingInsert = 1 + ((burst + b) % 7);
          for (let check = 0; check < 2_000; check++) {
            const start = calls;
            const waiting = pendingInsert;
            const read = await readSinceFrontier(open, state, {
              items: perCheck,
              callsLeft: () => callsPerCheck - (calls - start),
            });
            expect(read.error).toBeNull();
            served.push(...read.items);
            state = read.frontier;
            // Caught up, and nothing arrived during this check (what did is the next check's to read).
            if (!state.backlog && pendingInsert === 0 && waiting === 0) break;
          }
          expect(state.backlog, "caught up").toBe(false);
        }
        const ids = served.map((i) => i.id);
        expect(new Set(ids).size, "never twice").toBe(ids.length);
        const expected = up.items.filter((i) => !before.has(i.id)).map((i) => i.id);
        expect([...ids].sort()).toEqual([...expected].sort());
        const times = served.map((i) => i.created_at);
        expect(times, "oldest first").toEqual([...times].sort());
      }),
      150,
    );
    expect(cases).toBe(150);
  });
});
