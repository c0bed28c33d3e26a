import { beforeAll, describe, expect, it } from "vitest";
import { inkitSim, mutationsOf, resetSimulators } from "../support/simulator";
import { walkBackward, walkForward } from "../support/walk";

// A sort by a field that changes while one walks (updated_at, name, status) has no total order of tributary's:
// the upstream's order is served as it is and a position is a plain offset (src/paging/listing.ts, `order` null).
// These walks take that path end to end against the simulator, every page read from the upstream.

const noCache = { headers: { "Cache-Control": "no-cache" } };
const LIMIT = 45;

/** The simulator's own order for a sort: every run, as its list route serves them page after page. */
const upstreamOrder = async (sort: string) =>
  (await inkitSim.items({ kind: "run", sort })).items.map((item) => item.id);

beforeAll(resetSimulators);

describe.each(["-updated_at", "updated_at", "name", "-status"])("Inkit runs, sort=%s", (sort) => {
  it("a forward walk is the upstream's order, every run once; walking back gives the same pages reversed", async () => {
    const truth = await upstreamOrder(sort);
    expect(truth.length).toBeGreaterThan(20 * LIMIT);
    const walk = await walkForward(`/v1/inkit/runs?sort=${sort}`, LIMIT, noCache);
    expect(walk.ids).toEqual(truth);
    expect(walk.pages).toHaveLength(Math.ceil(truth.length / LIMIT));

    // Back from the last page: each page's prev_cursor reads exactly the page before it.
    const last = walk.pages.at(-1)?.page.prev_cursor;
    expect(last).toBeTruthy();
    const back = await walkBackward("/v1/inkit/runs", last as string, noCache);
    expect(back.map((p) => p.data.map((r) => r.id))).toEqual(
      walk.pages
        .slice(0, -1)
        .map((p) => p.data.map((r) => r.id))
        .reverse(),
    );
  });
});

describe("a change under a walk sorted by updated_at", () => {
  const inkit = mutationsOf(inkitSim);

  it("moves positions by offset: a run updated mid-walk rises above the walk, the next page starts one item back", async () => {
    const before = await upstreamOrder("-updated_at");
    const moved = before[3 * LIMIT] as string;
    const walk = await walkForward("/v1/inkit/runs?sort=-updated_at", LIMIT, noCache, 3, async (page) => {
      if (page === 0) await inkit.setStatus({ id: moved, status: "Completed" });
    });
    const after = await upstreamOrder("-updated_at");
    expect(after[0]).toBe(moved);
    // Page 2 is the upstream's window [LIMIT, 2·LIMIT) after the change: the last run of page 1 comes again, and the
    // updated run, now first, is not seen (as the sort's documentation warns).
    expect(walk.ids).toEqual([...before.slice(0, LIMIT), ...after.slice(LIMIT, 3 * LIMIT)]);
    expect(walk.ids[LIMIT]).toBe(walk.ids[LIMIT - 1]);
    expect(walk.ids).not.toContain(moved);
  });
});
