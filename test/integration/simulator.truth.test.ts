// test/support/truth.ts, the expected order of every walk, checked on its own (it shares no code with the facade),
// and the cross-provider ties of the seeded data that the merged feed must order by provider.
import { beforeAll, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { eightByEightSim, inkitSim } from "../support/simulator";
import {
  eightByEightTruth,
  inkitTruth,
  mergeTruth,
  normalizeTimestamp,
  providerOrder,
  type TruthItem,
  tieGroups,
} from "../support/truth";

const { orderNotifications, smsKeywordRouter, appointmentReminders } = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;

const item = (provider: TruthItem["provider"], id: string, created_at: string): TruthItem => ({
  id,
  created_at,
  provider,
});
const ids = (items: readonly TruthItem[]) => items.map((i) => i.id);

describe("truth: normalization and order", () => {
  it("normalizes to UTC, six fractional digits, Z", () => {
    expect(normalizeTimestamp("2021-06-30T03:20:39.49Z")).toBe("2021-06-30T03:20:39.490000Z");
    expect(normalizeTimestamp("2021-06-30T03:20:39Z")).toBe("2021-06-30T03:20:39.000000Z");
    expect(normalizeTimestamp("2023-11-07T02:31:22.232287Z")).toBe("2023-11-07T02:31:22.232287Z");
    expect(normalizeTimestamp("2021-06-30T03:20:39.3857479Z")).toBe("2021-06-30T03:20:39.385747Z");
    expect(normalizeTimestamp("2023-11-07T04:31:22.5+02:00")).toBe("2023-11-07T02:31:22.500000Z");
    expect(normalizeTimestamp("2023-12-31T23:30:00-01:00")).toBe("2024-01-01T00:30:00.000000Z");
    expect(() => normalizeTimestamp("2023-11-07 02:31:22Z")).toThrow();
    // The same instant from both providers compares equal once normalized.
    expect(normalizeTimestamp("2026-10-30T12:00:00.49Z")).toBe(normalizeTimestamp("2026-10-30T12:00:00.490000Z"));
  });

  it("provider routes: created_at then id, both in the sort's direction, ids in code-unit order", () => {
    const t = "2026-01-01T00:00:00.000000Z";
    const later = "2026-01-01T00:00:00.000001Z";
    // "Z" (0x5A) sorts before "a" (0x61) in code units, unlike a locale compare.
    const items = [item("inkit", "a", t), item("inkit", "Z", t), item("inkit", "b", later), item("inkit", "B", t)];
    expect(ids(providerOrder(items, "desc"))).toEqual(["b", "a", "Z", "B"]);
    expect(ids(providerOrder(items, "asc"))).toEqual(["B", "Z", "a", "b"]);
    expect(ids(items)).toEqual(["a", "Z", "b", "B"]); // not sorted in place
  });

  it("merged feed: created_at descending, then provider ascending (8x8 first), then id descending", () => {
    const t = "2026-10-30T12:00:00.490000Z";
    const merged = mergeTruth([
      [item("inkit", "rend_a", t), item("inkit", "rend_b", t), item("inkit", "rend_c", "2026-10-30T12:00:00.491000Z")],
      [item("8x8", "6ae0", t), item("8x8", "6ae1", t), item("8x8", "6ad9", "2026-10-30T12:00:00.489000Z")],
    ]);
    expect(ids(merged)).toEqual(["rend_c", "6ae1", "6ae0", "rend_b", "rend_a", "6ad9"]);
  });
});

describe("truth over the seeded data", () => {
  let runs: TruthItem[];
  let eightByEight: TruthItem[][];

  beforeAll(async () => {
    await Promise.all([inkitSim.reset(), eightByEightSim.reset()]);
    runs = await inkitTruth("run");
    eightByEight = await Promise.all([
      eightByEightTruth(orderNotifications, 2),
      eightByEightTruth(smsKeywordRouter, 1),
      eightByEightTruth(appointmentReminders, 3),
    ]);
  });

  it("re-sorts the simulator's dump: ties by id, where the dump has them in its hidden order", async () => {
    const dump = (await inkitSim.items<{ id: string; created_at: string }>({ kind: "run" })).items;
    const big = tieGroups(dump, (run) => run.created_at).find((group) => group.length > 50) ?? [];
    expect(big.length).toBeGreaterThan(50);
    const inTruth = runs.filter((run) => run.created_at === big[0]?.created_at);
    expect(ids(inTruth)).toEqual(
      big
        .map((run) => run.id)
        .sort()
        .reverse(),
    );
    expect(ids(inTruth)).not.toEqual(big.map((run) => run.id));
    expect(new Set(ids(runs))).toEqual(new Set(dump.map((run) => run.id)));
  });

  it("Inkit runs tie exactly with 8x8 instances of orderNotifications, smsKeywordRouter and appointmentReminders", () => {
    const inkitInstants = new Set(runs.map((run) => run.created_at));
    const shared = eightByEight.map((instances) => instances.filter((i) => inkitInstants.has(i.created_at)));
    for (const [i, list] of shared.entries()) expect(list.length, String(i)).toBeGreaterThan(0);
    expect(shared.flat().length).toBeGreaterThanOrEqual(5);
    // In the merged order, at each shared instant every 8x8 item comes before every Inkit one.
    const merged = mergeTruth([runs, ...eightByEight]);
    for (const instant of new Set(shared.flat().map((i) => i.created_at))) {
      const providers = merged.filter((i) => i.created_at === instant).map((i) => i.provider);
      expect(providers).toContain("inkit");
      expect(providers).toEqual([...providers].sort());
    }
  });
});
