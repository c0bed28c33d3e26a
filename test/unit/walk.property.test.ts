import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readPage } from "../../src/paging/listing";
import { fuzz } from "../support/fuzz";
import { documented, type Item, ids, manyLanes, roundTrip, scenario, walk } from "./support/upstream-model";

// The walk engine against in-memory upstreams that do everything their docs allow (see support/upstream-model):
// ties in an order unrelated to ids, stable or changing with the request's window; a silent page-size cap from
// the first request; head inserts between pages that tie with each other and with the head.

describe("walk engine property (no simulator)", () => {
  it("every forward walk returns every item that existed at T exactly once, in the documented order", async () => {
    let cases = 0;
    await fuzz(
      "walks.unit.forward",
      fc.asyncProperty(scenario, fc.boolean(), async (s, withInserts) => {
        cases++;
        const { atT, pages, short } = await walk(s, withInserts);
        expect(short, "every page with more after it is full").toBe(0);
        const all = pages.flat();
        expect(new Set(ids(all)).size, "no item twice").toBe(all.length);
        const known = new Set(ids(atT));
        expect(ids(all.filter((i) => known.has(i.id)))).toEqual(ids(atT));
        // Items inserted meanwhile may appear, but only in their place in the order.
        for (let k = 1; k < all.length; k++) expect(documented(all[k - 1] as Item, all[k] as Item)).toBeLessThan(0);
      }),
      250,
    );
    expect(cases).toBe(250);
  });

  it("without a shared cache, a feed of many lanes (a lean first page) walks every item exactly once, in order", async () => {
    let cases = 0;
    await fuzz(
      "walks.unit.lean",
      fc.asyncProperty(manyLanes, fc.boolean(), async (s, withInserts) => {
        cases++;
        const { atT, pages, short } = await walk(s, withInserts, { aligned: false });
        expect(short, "every page with more after it is full").toBe(0);
        const all = pages.flat();
        expect(new Set(ids(all)).size, "no item twice").toBe(all.length);
        const known = new Set(ids(atT));
        expect(ids(all.filter((i) => known.has(i.id)))).toEqual(ids(atT));
        for (let k = 1; k < all.length; k++) expect(documented(all[k - 1] as Item, all[k] as Item)).toBeLessThan(0);
      }),
      150,
    );
    expect(cases).toBe(150);
  });

  it("walking back with prev cursors returns exactly the forward pages, in reverse", async () => {
    await fuzz(
      "walks.unit.backward",
      fc.asyncProperty(scenario, fc.boolean(), async (s, withInserts) => {
        const constant = { ...s, limits: [s.limits[0] as number] };
        const { pages, last, lanes, atT, insert } = await walk(constant, false);
        const known = new Set(ids(atT));
        const back: Item[][] = [];
        let prev = last.prev;
        while (prev) {
          const p = roundTrip(prev);
          const page = await readPage({
            lanes,
            states: p.states,
            limit: constant.limits[0] as number,
            dir: "desc",
            backward: true,
            from: { key: p.key },
            partial: false,
          });
          back.push(page.items);
          prev = page.prev;
          // Items that arrive meanwhile are newer than the walk's head: a backward walk never reaches them,
          // except those that tie with the head itself, which take their place in the order.
          if (withInserts)
            insert(
              ((constant.bursts[back.length % constant.bursts.length] as number) * (constant.limits[0] as number)) %
                1001,
            );
        }
        const atTOnly = (list: Item[][]) => ids(list.flat().filter((i) => known.has(i.id)));
        if (!withInserts) expect(back.map(ids)).toEqual(pages.slice(0, -1).reverse().map(ids));
        else expect(atTOnly(back.reverse())).toEqual(atTOnly(pages.slice(0, -1)));
      }),
      100,
    );
  });
});
