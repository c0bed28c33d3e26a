// The 8x8 simulator at organisation scale: POST /__admin/definitions with `instances` adds many definitions that hold
// seeded instances, whose start instants tie across the definitions and with Inkit runs (simulator/README.md, Ties).
import { beforeAll, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_ACCOUNT_IDS, EIGHT_BY_EIGHT_API_KEYS } from "../../simulator/credentials";
import type { EightByEightInstance } from "../../src/providers/eightbyeight/schemas";
import { type AddedDefinitions, eightByEightSim, inkitSim, mutationsOf } from "../support/simulator";
import { normalizeTimestamp, tieGroups } from "../support/truth";

const BASE = eightByEightSim.url;
const COUNT = 100;
const INSTANCES = 30;

type Instance = EightByEightInstance;

/** Every instance of a definition's default listing, through the emulated route (newest first). */
async function listed(definitionId: string, tenant: "demo" | "other" = "demo"): Promise<Instance[]> {
  const url = `${BASE}/api/v1/accounts/${EIGHT_BY_EIGHT_ACCOUNT_IDS[tenant]}/definitions/${definitionId}/workflows?limit=500`;
  const res = await fetch(url, { headers: { Authorization: `Bearer ${EIGHT_BY_EIGHT_API_KEYS[tenant]}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Instance[];
}

/** Instants as tributary writes them (six fractional digits), so Inkit's and 8x8's spellings compare equal. */
const instant = (timestamp: string) => normalizeTimestamp(timestamp);

/** Instant → the definitions holding an instance there (each once). */
function definitionsByInstant(lists: Map<string, Instance[]>): Map<string, Set<string>> {
  const by = new Map<string, Set<string>>();
  for (const [definitionId, instances] of lists) {
    for (const item of instances) {
      const at = instant(item.startedAt);
      by.set(at, (by.get(at) ?? new Set()).add(definitionId));
    }
  }
  return by;
}

const mutate = mutationsOf<Instance>(eightByEightSim);

let added: AddedDefinitions;
let lists: Map<string, Instance[]>;
let inkitInstants: Map<string, number>;

beforeAll(async () => {
  await eightByEightSim.reset();
  await inkitSim.reset();
  added = await eightByEightSim.addDefinitions({ count: COUNT, instances: INSTANCES });
  lists = new Map();
  for (const { id } of added.definitions) lists.set(id, await listed(id));
  const runs = (await inkitSim.items<{ id: string; created_at: string }>({ kind: "run" })).items;
  inkitInstants = new Map();
  for (const run of runs)
    inkitInstants.set(instant(run.created_at), (inkitInstants.get(instant(run.created_at)) ?? 0) + 1);
  // The other tests start from the seeded data again.
  await eightByEightSim.reset();
});

describe("POST /__admin/definitions with instances: an organisation's worth of 8x8 definitions", () => {
  it(`${COUNT} definitions, each with ${INSTANCES} instances in version 1, served newest first by the emulated route`, () => {
    expect(added.definitions).toHaveLength(COUNT);
    for (const definition of added.definitions) {
      expect(definition).toMatchObject({ latestVersion: 1, instancesByVersion: { "1": INSTANCES }, total: INSTANCES });
      const instances = lists.get(definition.id) ?? [];
      expect(instances).toHaveLength(INSTANCES);
      expect(instances.every((item) => item.definitionId === definition.id && item.version === 1)).toBe(true);
      const times = instances.map((item) => Date.parse(item.startedAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    }
    const statuses = new Set([...lists.values()].flat().map((item) => item.status));
    expect([...statuses].sort()).toEqual(["Complete", "Runnable", "Suspended", "Terminated"]);
  });

  it("ties across definitions: one instant every new definition shares, and every definition in smaller groups too", () => {
    const by = definitionsByInstant(lists);
    const acrossSources = [...by.values()].filter((ids) => ids.size >= 2);
    const broadcast = acrossSources.filter((ids) => ids.size === COUNT);
    expect(broadcast).toHaveLength(1);
    // Rounds of groups of 2 to 5: about COUNT / 3.5 instants each, every definition in one.
    const small = acrossSources.filter((ids) => ids.size >= 2 && ids.size <= 5);
    expect(small.length).toBeGreaterThanOrEqual(Math.floor(COUNT / 5));
    for (const { id } of added.definitions) {
      expect(
        small.some((ids) => ids.has(id)),
        id,
      ).toBe(true);
    }
    // Some members hold two instances at a shared instant: a tie inside the source and across sources at once.
    const doubled = [...lists.values()].flatMap((instances) =>
      tieGroups(instances, (item) => instant(item.startedAt)).filter((group) => {
        const at = instant((group[0] as Instance).startedAt);
        return (by.get(at)?.size ?? 0) >= 2;
      }),
    );
    expect(doubled.length).toBeGreaterThan(0);
    // Tied instances embed the same start second in their ids, as in the seeded data.
    for (const group of [...lists.values()].flatMap((instances) => tieGroups(instances, (i) => instant(i.startedAt)))) {
      expect(new Set(group.map((item) => item.workflowId.slice(0, 8))).size).toBe(1);
    }
  });

  it("each definition also has ties of its own (groups of 2 to 5 inside one source), as every seeded list has", () => {
    const by = definitionsByInstant(lists);
    for (const [id, instances] of lists) {
      const own = tieGroups(instances, (item) => instant(item.startedAt)).filter(
        (group) => by.get(instant((group[0] as Instance).startedAt))?.size === 1,
      );
      expect(own.length, id).toBeGreaterThan(0);
    }
  });

  it("ties against Inkit: every 4th definition has an instance at an instant Inkit runs share (µs vs ms spellings)", () => {
    const withInkit = new Set<string>();
    const instants = new Set<string>();
    for (const [id, instances] of lists) {
      for (const item of instances) {
        const at = instant(item.startedAt);
        if (inkitInstants.has(at)) {
          withInkit.add(id);
          instants.add(at);
        }
      }
    }
    expect(withInkit.size).toBe(COUNT / 4);
    expect(instants.size).toBe(6);
    // Both spellings of one instant: Inkit's six digits, 8x8's trimmed milliseconds (one a whole second).
    const spellings = [...lists.values()].flat().filter((item) => inkitInstants.has(instant(item.startedAt)));
    expect(spellings.some((item) => /:\d{2}Z$/.test(item.startedAt))).toBe(true);
    expect(spellings.some((item) => /\.\d{1,2}Z$/.test(item.startedAt))).toBe(true);
  });

  it("the answer's `shared` lists exactly the instants new definitions share with each other or with Inkit", () => {
    const by = definitionsByInstant(lists);
    const expected = [...by.entries()]
      .filter(([at, ids]) => ids.size >= 2 || inkitInstants.has(at))
      .map(([at, ids]) => [at, [...ids].sort()]);
    const described = added.shared.map((s) => [instant(s.startedAt), [...s.definitionIds].sort()]);
    expect(new Map(described as [string, string[]][])).toEqual(new Map(expected as [string, string[]][]));
    for (const s of added.shared) {
      expect(s.inkitRuns).toBe(inkitInstants.get(instant(s.startedAt)) ?? 0);
      const held = s.definitionIds.reduce(
        (sum, id) =>
          sum + (lists.get(id) ?? []).filter((item) => instant(item.startedAt) === instant(s.startedAt)).length,
        0,
      );
      expect(held).toBe(s.instances);
    }
  });

  it("no other instant is shared: not between new definitions, nor with the seeded definitions", async () => {
    const seeded = (await eightByEightSim.getDefinitions()).definitions;
    const seededInstants = new Set<string>();
    for (const { id } of seeded) {
      for (const item of (await eightByEightSim.items<Instance>({ definitionId: id })).items) {
        seededInstants.add(instant(item.startedAt));
      }
    }
    const planned = new Set(added.shared.map((s) => instant(s.startedAt)));
    for (const instances of lists.values()) {
      for (const item of instances) {
        const at = instant(item.startedAt);
        if (seededInstants.has(at)) expect(planned.has(at) && inkitInstants.has(at), at).toBe(true);
      }
    }
  });

  it("deterministic: after a reset the same call builds byte-identical definitions and instances", async () => {
    const again = await mutate.addDefinitions({ count: COUNT, instances: INSTANCES });
    expect(again).toEqual(added);
    const sample = added.definitions[37]?.id as string;
    expect(await listed(sample)).toEqual(lists.get(sample));
  });

  it("defaults unchanged: without instances the definitions are empty and nothing is shared", async () => {
    const empty = await mutate.addDefinitions({ count: 3 });
    expect(empty.shared).toEqual([]);
    expect(empty.definitions.map((d) => d.total)).toEqual([0, 0, 0]);
    expect(await listed(empty.definitions[0]?.id as string)).toEqual([]);
  });

  it("the other tenant: ties across its new definitions, none with Inkit (its runs have no whole-millisecond instant)", async () => {
    const other = await mutate.addDefinitions({ count: 4, instances: 10, tenant: "other" });
    expect(other.shared.every((s) => s.inkitRuns === 0)).toBe(true);
    expect(other.shared.some((s) => s.definitionIds.length === 4)).toBe(true);
    expect(await listed(other.definitions[0]?.id as string, "other")).toHaveLength(10);
  });

  it("fewer instances than planned ties: the broadcast comes first, and `shared` describes only what was built", async () => {
    const tiny = await mutate.addDefinitions({ count: 8, instances: 1 });
    expect(tiny.definitions.every((d) => d.total === 1)).toBe(true);
    expect(tiny.shared).toHaveLength(1);
    expect(tiny.shared[0]?.definitionIds).toHaveLength(8);
  });

  it("strict bodies: count × instances is bounded; negative or fractional counts are 400s", async () => {
    for (const body of [
      { count: 100, instances: 10_000 },
      { count: 2, instances: -1 },
      { count: 2, instances: 1.5 },
      { count: 2, instances: 3, colour: "red" },
    ]) {
      const res = await fetch(`${BASE}/__admin/definitions`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});
