import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { resetCircuitBreakers } from "../../src/upstream/circuit-breaker";
import { expectDeclaredSuccess } from "../support/contract";
import { FUZZ_SEED, fuzz } from "../support/fuzz";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import { eightByEightTruth, inkitTruth } from "../support/truth";
import { type PageBody, walkForward } from "../support/walk";
import { request } from "../support/worker";

// Property: under random upstream faults injected between pages (5xx bursts, 429 storms, page-size caps,
// latency), with retries on, a forward walk either succeeds page by page or a page fails cleanly with a 5xx
// problem naming the upstream; the failed page, asked again with the same cursor once the fault is gone,
// succeeds. Either way the ids walked equal the upstream's truth: nothing lost, nothing repeated.

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
type Sim = typeof inkitSim;
interface Listing {
  path: string;
  sim: Sim;
  /** The fault's route filter: only this listing's upstream route. */
  route: string;
  truth: () => Promise<string[]>;
  truthIds?: string[];
}

const listings: Listing[] = [
  {
    path: "/v1/inkit/batches",
    sim: inkitSim,
    route: "/v1/batch",
    truth: async () => (await inkitTruth("document_batch")).map((b) => b.id),
  },
  {
    path: "/v1/inkit/workflow-batches",
    sim: inkitSim,
    route: "/v1/invoke/batch",
    truth: async () => (await inkitTruth("workflow_batch")).map((b) => b.id),
  },
  {
    path: `/v1/8x8/accounts/acme-ops/definitions/${defs.smsKeywordRouter}/runs`,
    sim: eightByEightSim,
    route: "/workflows",
    truth: async () => (await eightByEightTruth(defs.smsKeywordRouter, 1)).map((r) => r.id),
  },
  {
    path: `/v1/8x8/accounts/acme-ops/definitions/${defs.appointmentReminders}/runs`,
    sim: eightByEightSim,
    route: "/workflows",
    truth: async () => (await eightByEightTruth(defs.appointmentReminders, 3)).map((r) => r.id),
  },
];

const transientFault = fc.oneof(
  fc.record({ status: fc.constantFrom(500, 502, 503, 504), times: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ retry_after: fc.constant(0), times: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ status: fc.constant(429), times: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ latency_ms: fc.integer({ min: 5, max: 40 }), times: fc.integer({ min: 1, max: 3 }) }),
);

/** A page-size cap in place from the walk's first page (caps appearing mid-walk: the tests at the end). */
const capFromStart = fc.record({
  atPage: fc.constant(0),
  fault: fc.record({ page_size_cap: fc.integer({ min: 3, max: 60 }) }),
});

const scenarioArb = fc.record({
  listing: fc.integer({ min: 0, max: listings.length - 1 }),
  limit: fc.integer({ min: 8, max: 80 }),
  faults: fc.array(
    fc.oneof(fc.record({ atPage: fc.integer({ min: 0, max: 6 }), fault: transientFault }), capFromStart),
    { maxLength: 3 },
  ),
});

// No listing cache: every page reaches the upstream, so every injected fault is met.
const uncached = { CACHE_TTL_LIST_SECONDS: "0", CACHE_TTL_ITEM_SECONDS: "0" };
const stats = { walks: 0, pages: 0, faults: 0, failedPages: 0 };

beforeAll(async () => {
  await resetSimulators();
  for (const l of listings) l.truthIds = await l.truth();
});

afterAll(async () => {
  await Promise.all([inkitSim.clearFaults(), eightByEightSim.clearFaults()]);
  console.log(
    `[fuzz] walks: ${stats.walks} walks, ${stats.pages} pages, ${stats.faults} injected faults, ${stats.failedPages} pages failed cleanly and were resumed (FUZZ_SEED=${FUZZ_SEED})`,
  );
});

describe("walks under injected faults", () => {
  it("equal the truth, or fail a page cleanly with a 5xx problem and resume from the same cursor", async () => {
    await fuzz(
      "walks.faults",
      fc.asyncProperty(scenarioArb, async ({ listing: index, limit, faults }) => {
        const listing = listings[index] as Listing;
        await Promise.all([inkitSim.clearFaults(), eightByEightSim.clearFaults()]);
        resetCircuitBreakers();
        stats.walks += 1;
        const ids: string[] = [];
        let url: string | null = `${listing.path}?limit=${limit}`;
        for (let page = 0; url && page < 200; page++) {
          for (const f of faults.filter((f) => f.atPage === page)) {
            await listing.sim.fault({ route: listing.route, ...f.fault });
            stats.faults += 1;
          }
          let res = await request(url, { env: uncached });
          stats.pages += 1;
          if (res.status !== 200) {
            expect([502, 503, 504], url).toContain(res.status);
            const problem = await expectProblem(res);
            expect(problem.type).toMatch(/^\/problems\/upstream-(error|unavailable|timeout)$/);
            expect(problem.upstream?.provider).toBe(listing.sim === inkitSim ? "inkit" : "8x8");
            stats.failedPages += 1;
            await listing.sim.clearFaults();
            res = await request(url, { env: uncached });
            expect(res.status, url).toBe(200);
          }
          await expectDeclaredSuccess("GET", url, res.clone());
          const body = (await res.json()) as PageBody;
          ids.push(...body.data.map((r) => r.id));
          if (body.page.has_more) expect(body.data).toHaveLength(limit);
          url = body.page.next_cursor ? `${listing.path}?cursor=${encodeURIComponent(body.page.next_cursor)}` : null;
        }
        expect(ids).toEqual(listing.truthIds);
      }),
      45,
    );
  });

  // A cap that appears mid-walk. Inkit serves page P at the capped size: items are placed by the size it reports.
  // 8x8 has no total, so a short answer is either the end or a cap: only an empty answer is taken as the end.
  it.each([
    ["Inkit", 7],
    ["Inkit", 18],
    ["Inkit", 33],
    ["8x8", 7],
    ["8x8", 18],
    ["8x8", 33],
  ] as const)("%s: a page-size cap of %i appearing mid-walk loses nothing", async (provider, cap) => {
    await resetSimulators();
    const sim = provider === "Inkit" ? inkitSim : eightByEightSim;
    for (const listing of listings.filter((l) => l.sim === sim)) {
      const truth = await listing.truth();
      for (const limit of [51, 7]) {
        const walk = await walkForward(
          listing.path,
          limit,
          { headers: { "Cache-Control": "no-cache" } },
          1000,
          async (i) => {
            if (i === 1) await sim.fault({ route: listing.route, page_size_cap: cap });
          },
        );
        expect(walk.ids).toEqual(truth);
        await sim.clearFaults();
      }
    }
  });
});
