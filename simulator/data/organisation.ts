import type { Tenant } from "../credentials";
import { buildInstance, type EightByEightDefinition, type EightByEightTenantData, newestFirst } from "./eightbyeight";
import { chance, DistinctInstants, int, type Rng, shuffle } from "./random";
import { CROSS_PROVIDER_TIES, planTieGroups } from "./ties";
import { DATASET_NOW_MS, DAY_MS } from "./time";

/**
 * An organisation's worth of 8x8 definitions (`POST /__admin/definitions` with `instances`): many definitions, each
 * with seeded instances, whose start instants tie with each other's and with Inkit runs. A merged feed over them
 * meets tie groups spread across many sources, which is where an engine that orders ties per source breaks.
 */

/** Rounds of cross-definition tie groups: each round gives every definition one instance at a shared instant. */
const SHARED_TIE_FRACTION = 0.04;
/** Every `INKIT_TIE_STRIDE`-th new definition (the first included) has an instance at a CROSS_PROVIDER_TIES instant. */
const INKIT_TIE_STRIDE = 4;
/** Chance that a member of a shared group holds two instances at its instant (a tie inside the source too). */
const DOUBLE_MEMBER_CHANCE = 0.2;
/** The window the instances start in: the 120 days before the dataset's "now", like the seeded instances. */
const WINDOW_DAYS = 120;

/** One instant several sources share, as the admin answer describes it. */
interface SharedInstant {
  startedMs: number;
  /** Indexes into the call's new definitions, with how many instances each holds at the instant (1 or 2). */
  members: { index: number; count: number }[];
  /** Inkit runs (demo tenant) created at this very instant; 0 for an instant only 8x8 definitions share. */
  inkitRuns: number;
}

interface OrganisationOptions {
  tenant: Tenant;
  /** How many definitions to add. */
  count: number;
  /** Instances per definition (all in version 1, the latest); 0 adds empty definitions. */
  instances: number;
}

/**
 * Adds `count` definitions shaped like the tenant's first one, each with `instances` instances in version 1, all drawn
 * from the tenant's insert rng (so a given sequence of admin calls after a reset always builds the same data).
 * Per definition, in this order of priority while instances remain:
 * 1. one instance at the **broadcast** instant, which every new definition shares (a campaign that triggered every
 *    workflow in one millisecond): a tie group across all `count` sources, one or two instances in each;
 * 2. (demo tenant) every 4th definition: one instance at an instant of CROSS_PROVIDER_TIES, where Inkit runs (written
 *    with six fractional digits, `…:00.490000Z`) and seeded 8x8 instances (`…:00.49Z`) already tie;
 * 3. rounds of small shared groups (2 to 5 definitions each, shuffled), `max(1, round(instances × 4%))` rounds, each
 *    giving every definition one instance (sometimes two) at an instant it shares with the rest of its group;
 * 4. the rest in tie groups of its own, as every seeded list has (about 8% in groups of 2 to 5).
 * Apart from the planned ties, no instant is shared: not with another new definition, nor with the tenant's existing
 * instances.
 */
export function addOrganisation(
  data: EightByEightTenantData,
  options: OrganisationOptions,
): { definitions: EightByEightDefinition[]; shared: SharedInstant[] } {
  const { count, instances, tenant } = options;
  const model = data.definitions.values().next().value as EightByEightDefinition;
  const definitions = Array.from({ length: count }, () => {
    const id = uuidFrom(data.rng);
    const definition: EightByEightDefinition = {
      ...model,
      id,
      name: `generated-${id.slice(0, 8)}`,
      latestVersion: 1,
      instances: [],
    };
    data.definitions.set(id, definition);
    return definition;
  });
  if (instances === 0) return { definitions, shared: [] };

  const instants = reservedInstants(data);
  const from = DATASET_NOW_MS - WINDOW_DAYS * DAY_MS;
  const until = DATASET_NOW_MS - 1;
  const shared = planShared(data.rng, count, instances, tenant, instants, from, until);
  definitions.forEach((definition, index) => {
    let held = 0;
    const add = (startedMs: number, n: number) => {
      for (let i = 0; i < n && held < instances; i++, held++) {
        definition.instances.push(buildInstance(data.rng, data.workflowIds, definition, 1, startedMs));
      }
    };
    for (const instant of shared) {
      const member = instant.members.find((m) => m.index === index);
      if (member !== undefined) add(instant.startedMs, member.count);
    }
    for (const size of planTieGroups(data.rng, instances - held)) add(instants.draw(from, until), size);
    definition.instances.sort(newestFirst);
  });
  // What was planned but did not fit (fewer instances than planned ties) is left out of the description.
  const held = (index: number, startedMs: number) =>
    (definitions[index] as EightByEightDefinition).instances.filter((record) => record.startedMs === startedMs).length;
  const described = shared
    .map((instant) => ({
      ...instant,
      members: instant.members
        .map((m) => ({ index: m.index, count: held(m.index, instant.startedMs) }))
        .filter((m) => m.count > 0),
    }))
    .filter((instant) => instant.members.length + (instant.inkitRuns > 0 ? 1 : 0) >= 2);
  return { definitions, shared: described };
}

/** The shared instants of one call, in the order of priority above. */
function planShared(
  rng: Rng,
  count: number,
  instances: number,
  tenant: Tenant,
  instants: DistinctInstants,
  from: number,
  until: number,
): SharedInstant[] {
  const indexes = Array.from({ length: count }, (_, i) => i);
  const membersOf = (group: number[]) =>
    group.map((index) => ({ index, count: chance(rng, DOUBLE_MEMBER_CHANCE) ? 2 : 1 }));
  const shared: SharedInstant[] = [];
  if (count >= 2) shared.push({ startedMs: instants.draw(from, until), members: membersOf(indexes), inkitRuns: 0 });
  if (tenant === "demo") {
    const byInstant = new Map<number, number[]>();
    for (let index = 0; index < count; index += INKIT_TIE_STRIDE) {
      const tie = CROSS_PROVIDER_TIES[(index / INKIT_TIE_STRIDE) % CROSS_PROVIDER_TIES.length];
      if (tie === undefined) continue;
      const at = Date.parse(tie.at);
      byInstant.set(at, [...(byInstant.get(at) ?? []), index]);
    }
    for (const tie of CROSS_PROVIDER_TIES) {
      const group = byInstant.get(Date.parse(tie.at));
      if (group) shared.push({ startedMs: Date.parse(tie.at), members: membersOf(group), inkitRuns: tie.inkitRuns });
    }
  }
  const rounds = count >= 2 ? Math.max(1, Math.round(instances * SHARED_TIE_FRACTION)) : 0;
  for (let round = 0; round < rounds; round++) {
    const order = shuffle(rng, [...indexes]);
    const groups: number[][] = [];
    while (order.length > 0) {
      const size = Math.min(order.length, int(rng, 2, 5));
      groups.push(order.splice(0, size));
    }
    // A lone definition left at the end joins the group before it: every group is a tie across sources.
    const last = groups.at(-1);
    if (last && last.length === 1 && groups.length > 1) groups.at(-2)?.push(...(groups.pop() as number[]));
    for (const group of groups) {
      shared.push({ startedMs: instants.draw(from, until), members: membersOf(group), inkitRuns: 0 });
    }
  }
  return shared;
}

/** Draws that avoid every instant the tenant's instances already use, and the cross-provider instants. */
function reservedInstants(data: EightByEightTenantData): DistinctInstants {
  const instants = new DistinctInstants(data.rng);
  for (const definition of data.definitions.values()) {
    for (const record of definition.instances) instants.reserve(record.startedMs);
  }
  for (const tie of CROSS_PROVIDER_TIES) instants.reserve(Date.parse(tie.at));
  return instants;
}

/** A version 4 UUID drawn from `rng` (deterministic, like everything the simulator makes). */
function uuidFrom(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rng() * 16).toString(16));
  hex[12] = "4";
  hex[16] = "89ab"[Math.floor(rng() * 4)] as string;
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
