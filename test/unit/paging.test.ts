import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LaneView, tieGroupsOf } from "../../src/paging/assemble";
import { type CursorPayload, cursorKeys, signCursor, verifyCursor } from "../../src/paging/cursor";
import { offsetModelReader, pageModelReader, planPages, type RememberedCaps } from "../../src/paging/reader-models";

describe("window planning (page model)", () => {
  it("covers a window with one call whenever one page size within the cap can", () => {
    expect(planPages(30, 40, 500)).toEqual([{ page: 1, pageSize: 70 }]);
    expect(planPages(0, 50, 500)).toEqual([{ page: 1, pageSize: 50 }]);
    expect(planPages(100, 50, 500)).toEqual([{ page: 3, pageSize: 50 }]);
  });

  it("takes two calls of min(count, cap) when no single size fits", () => {
    expect(planPages(450, 100, 100)).toEqual([
      { page: 5, pageSize: 100 },
      { page: 6, pageSize: 100 },
    ]);
  });

  it("always covers exactly the window's offsets, never with a page above the cap", () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 500 }), (o, n, cap) => {
        const calls = planPages(o, n, cap);
        const [first] = calls;
        const last = calls.at(-1);
        if (!first || !last) throw new Error("no calls");
        expect((first.page - 1) * first.pageSize).toBeLessThanOrEqual(o);
        expect(last.page * last.pageSize).toBeGreaterThanOrEqual(o + n);
        for (const [i, c] of calls.entries()) {
          expect(c.pageSize).toBeLessThanOrEqual(Math.max(cap, n <= cap ? n : cap));
          expect(c).toEqual({ page: first.page + i, pageSize: first.pageSize });
        }
        expect(calls.length).toBeLessThanOrEqual(n <= cap ? 2 : Math.ceil(n / cap) + 1);
      }),
      { seed: 13 },
    );
  });

  it("with several pages, picks the size needing fewest: pages of 99 where pages of 100 would take one more", () => {
    expect(planPages(499, 502, 100)).toEqual(Array.from({ length: 6 }, (_, i) => ({ page: 6 + i, pageSize: 99 })));
    expect(planPages(500, 500, 100)).toEqual(Array.from({ length: 5 }, (_, i) => ({ page: 6 + i, pageSize: 100 })));
  });

  it("needs no more calls than any one page size within the cap, found by trying every size", () => {
    const fewestBySearch = (o: number, n: number, cap: number) => {
      let best = Number.POSITIVE_INFINITY;
      for (let size = 1; size <= cap; size++)
        best = Math.min(best, Math.floor((o + n - 1) / size) - Math.floor(o / size) + 1);
      return best;
    };
    fc.assert(
      fc.property(fc.nat(5000), fc.integer({ min: 1, max: 700 }), fc.integer({ min: 1, max: 200 }), (o, n, cap) => {
        expect(planPages(o, n, cap).length).toBe(fewestBySearch(o, n, cap));
      }),
      { seed: 19, numRuns: 2000 },
    );
  });

  // Not true of every limit and cap (146 items from offset 4079 under a cap of 16 span 11 pages of any size up to
  // 16): it holds for a 500-item page under Inkit's cap of 100 (checked at every offset below 3 million by search).
  it("covers a 500-item page and one item on each side in ceil(500 / 100) + 1 calls under a cap of 100", () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), (o) => {
        expect(planPages(o, 502, 100).length).toBeLessThanOrEqual(6);
      }),
      { seed: 21, numRuns: 5000 },
    );
  });
});

describe("learned caps", () => {
  const list = Array.from({ length: 1000 }, (_, i) => ({ created_at: String(1000 - i), n: i }));
  /** A page-model upstream over `list` that serves at most `cap` per page and reports the size it used. */
  const upstream = (cap: number | null, calls: number[][]) => async (call: { page: number; pageSize: number }) => {
    const size = cap === null ? call.pageSize : Math.min(call.pageSize, cap);
    calls.push([call.page, call.pageSize]);
    return { items: list.slice((call.page - 1) * size, call.page * size), total: list.length, pageSize: size };
  };
  const memory = (cap: number) => {
    const learned: number[] = [];
    const caps: RememberedCaps = { recall: async () => cap, learn: (c) => learned.push(c) };
    return { caps, learned };
  };

  it("a read that reveals a cap reports it and remembers it", async () => {
    const calls: number[][] = [];
    const { caps, learned } = memory(0);
    const read = await pageModelReader(upstream(20, calls), 500, caps).read(0, 500, 0, { short: true });
    expect([read.items.length, read.cap, learned]).toEqual([20, 20, [20]]);
  });

  it("a read that reveals nothing adopts a remembered cap, unless it was served more than it", async () => {
    const calls: number[][] = [];
    const adopted = memory(100);
    const read = await pageModelReader(upstream(100, calls), 500, adopted.caps).read(0, 100, 0);
    expect([read.cap, adopted.learned]).toEqual([100, []]);

    const raised = memory(100);
    const whole = await pageModelReader(upstream(null, calls), 500, raised.caps).read(0, 500, 0);
    expect([whole.items.length, whole.cap, raised.learned]).toEqual([500, 0, [0]]);
  });

  it("a cap from the cursor is used as it is, and a smaller cap replaces it", async () => {
    const calls: number[][] = [];
    const { caps, learned } = memory(100);
    const read = await pageModelReader(upstream(50, calls), 500, caps).read(100, 100, 100);
    expect(calls[0]).toEqual([2, 100]);
    expect([read.items.map((i) => i.n)[0], read.items.length, read.cap, learned]).toEqual([100, 100, 50, [50]]);
  });
});

describe("the offset model", () => {
  it("does not spend a call on the one item after a whole window", async () => {
    const asked: number[][] = [];
    const source = offsetModelReader(async (offset, limit) => {
      asked.push([offset, limit]);
      return Array.from({ length: Math.min(limit, 500) }, (_, i) => offset + i);
    }, 500);
    const read = await source.read(0, 500, 0);
    expect([asked, read.items.length, read.hasMore]).toEqual([[[0, 500]], 500, true]);
    // No cap learned: a short answer cannot tell one from the end.
    expect(read.cap).toBe(0);
  });
});

describe("cursor codec", () => {
  const payload: CursorPayload = {
    v: 2,
    r: "inkit.groups",
    b: "bind",
    f: { sort: "-created_at" },
    l: 5,
    d: "n",
    k: null,
    p: [],
    s: 0,
  };
  const DAY = 86_400;

  it("signs URL-safe and verifies to the same payload", async () => {
    const keys = await cursorKeys("k2:secret-two-0123456789abcdef0123456789");
    const token = await signCursor(payload, keys);
    expect(token).toMatch(/^k2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(await verifyCursor(token, keys, DAY, 1000)).toEqual(payload);
  });

  it("refuses a modified cursor, an unknown key and an expired one", async () => {
    const keys = await cursorKeys("k2:secret-two-0123456789abcdef0123456789");
    const token = await signCursor(payload, keys);
    const [kid, body, tag] = token.split(".") as [string, string, string];
    const flipped = `${kid}.${body}.${tag.startsWith("A") ? "B" : "A"}${tag.slice(1)}`;
    await expect(verifyCursor(flipped, keys, DAY, 1000)).rejects.toMatchObject({ failure: "invalid-cursor" });
    await expect(verifyCursor(`k9.${body}.${tag}`, keys, DAY, 1000)).rejects.toMatchObject({
      failure: "invalid-cursor",
    });
    await expect(verifyCursor(token, keys, DAY, DAY * 1000 + 1001)).rejects.toMatchObject({
      failure: "cursor-expired",
    });
  });

  it("keeps verifying cursors of a rotated-out key listed after the new one", async () => {
    const old = await signCursor(payload, await cursorKeys("k1:secret-one-0123456789abcdef0123456789"));
    const rotated = await cursorKeys(
      "k2:secret-two-0123456789abcdef0123456789,k1:secret-one-0123456789abcdef0123456789",
    );
    expect(await verifyCursor(old, rotated, DAY, 1000)).toEqual(payload);
  });
});

describe("tie groups cut between two responses", () => {
  const item = (id: string, created_at: string) => ({ id, created_at });
  // One group of three at "5", cut after its first item: response 0 served [9, a], response 1 served [b, c, 1].
  const view = (ids: string[], oneSnapshot?: boolean): LaneView<{ id: string; created_at: string }> => ({
    start: 10,
    items: [item("z", "9"), ...ids.map((id) => item(id, "5")), item("y", "1")],
    response: [0, 0, 1, 1, 1],
    atEnd: true,
    oneSnapshot,
  });

  it.each([
    { case: "responses of one snapshot, each item once", ids: ["a", "b", "c"], oneSnapshot: true, mixed: false },
    {
      case: "responses of one snapshot that ordered the group differently",
      ids: ["a", "a", "c"],
      oneSnapshot: true,
      mixed: true,
    },
    { case: "responses not known to be one snapshot", ids: ["a", "b", "c"], oneSnapshot: undefined, mixed: true },
    { case: "responses of two snapshots", ids: ["a", "b", "c"], oneSnapshot: false, mixed: true },
  ])("$case: read again as one = $mixed", ({ ids, oneSnapshot, mixed }) => {
    const groups = tieGroupsOf(view(ids, oneSnapshot));
    expect(groups.map((r) => [r.createdAt, r.from, r.to, r.mixed])).toEqual([
      ["9", 0, 1, false],
      ["5", 1, 4, mixed],
      ["1", 4, 5, false],
    ]);
  });
});
