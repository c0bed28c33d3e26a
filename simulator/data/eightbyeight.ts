import { EIGHT_BY_EIGHT_ACCOUNT_IDS, EIGHT_BY_EIGHT_DEFINITION_IDS, TENANTS, type Tenant } from "../credentials";
import { DEFINITIONS, type DefinitionSpec, type EightByEightStatus, type Payload } from "./eightbyeight-catalog";
import { chance, DistinctInstants, hex, int, mulberry32, pick, type Rng, tieKey, weighted } from "./random";
import { CROSS_PROVIDER_TIES, planTieGroups } from "./ties";
import { DATASET_NOW_MS, DAY_MS, formatDotNet, HeadClock, MINUTE_MS, SECOND_MS } from "./time";

/** One workflow instance, keys in the order of the docs' example. */
export interface EightByEightInstance {
  workflowId: string;
  data: {
    payload?: Payload;
    accountId: string;
    subAccountId?: string;
    triggeredAt: string;
  };
  definitionId: string;
  version: number;
  status: string;
  startedAt: string;
  completedAt: string | null;
}

export interface StoredInstance {
  readonly item: EightByEightInstance;
  readonly startedMs: number;
  /** Orders this instance among instances started in the same millisecond; unrelated to the id, never served. */
  readonly tieKey: number;
}

export interface EightByEightDefinition {
  id: string;
  name: string;
  accountId: string;
  /** The version listed when the request names none. */
  latestVersion: number;
  subAccountIds: readonly string[];
  payload: DefinitionSpec["payload"];
  /** Newest started first, ties by tieKey (the hidden tie order), across all versions. */
  instances: StoredInstance[];
}

export interface EightByEightTenantData {
  accountId: string;
  /** Keyed by lowercase definition id. */
  definitions: Map<string, EightByEightDefinition>;
  /** Used by admin inserts and status changes, so they too are deterministic. */
  rng: Rng;
  clock: HeadClock;
  workflowIds: ObjectIdMinter;
}

export type EightByEightDataset = Record<Tenant, EightByEightTenantData>;

const SEEDS: Record<Tenant, number> = { demo: 0x8e8_2026, other: 0x8e8_0002 };

type SeededTenant = Pick<EightByEightTenantData, "accountId" | "definitions">;

/** Each tenant's seeded definitions and instances, generated once: never handed out, only copied. */
let seeded: Record<Tenant, SeededTenant> | undefined;

/**
 * Builds both tenants' data. Same output on every call: the seeded definitions are generated on the first call, and
 * every call gets copies of them (admin writes change definitions and instances in place) with insert state of its
 * own, so a reset costs a copy rather than a generation.
 */
export function generateEightByEightDataset(): EightByEightDataset {
  seeded ??= Object.fromEntries(TENANTS.map((tenant) => [tenant, generateTenant(tenant)])) as Record<
    Tenant,
    SeededTenant
  >;
  const dataset: Partial<EightByEightDataset> = {};
  for (const tenant of TENANTS) dataset[tenant] = copyTenant(seeded[tenant], tenant);
  return dataset as EightByEightDataset;
}

function copyTenant({ accountId, definitions }: SeededTenant, tenant: Tenant): EightByEightTenantData {
  const insertRng = mulberry32(SEEDS[tenant] ^ 0x5eed);
  return {
    accountId,
    definitions: new Map(
      [...definitions].map(([key, definition]) => [
        key,
        {
          ...definition,
          instances: definition.instances.map((record) => ({ ...record, item: structuredClone(record.item) })),
        },
      ]),
    ),
    rng: insertRng,
    // Inserted instances start 0.2 to 3 seconds apart, after everything generated.
    clock: new HeadClock(DATASET_NOW_MS, insertRng, 200, 3 * SECOND_MS),
    workflowIds: new ObjectIdMinter(insertRng),
  };
}

function generateTenant(tenant: Tenant): SeededTenant {
  const rng = mulberry32(SEEDS[tenant]);
  const accountId = EIGHT_BY_EIGHT_ACCOUNT_IDS[tenant];
  const workflowIds = new ObjectIdMinter(rng);
  const definitions = new Map<string, EightByEightDefinition>();
  for (const spec of DEFINITIONS[tenant]) {
    const definition: EightByEightDefinition = {
      id: spec.id,
      name: spec.name,
      accountId,
      latestVersion: Math.max(...spec.versions.map((version) => version.version)),
      subAccountIds: spec.subAccountIds,
      payload: spec.payload,
      instances: [],
    };
    // Instances come in tie groups that share startedAt to the millisecond; groups never share an instant.
    const instants = new DistinctInstants(rng);
    const latest = spec.versions.find((version) => version.version === definition.latestVersion);
    const add = (version: number, startedMs: number, count: number) => {
      for (let i = 0; i < count; i++)
        definition.instances.push(buildInstance(rng, workflowIds, definition, version, startedMs));
    };
    // Fixed instants shared with Inkit runs, all in the latest version.
    const crossTies = tenant === "demo" ? CROSS_PROVIDER_TIES : [];
    for (const tie of crossTies) {
      const count = tie.eightByEight.filter((name) => EIGHT_BY_EIGHT_DEFINITION_IDS.demo[name] === spec.id).length;
      if (count > 0 && latest !== undefined) add(latest.version, instants.reserve(Date.parse(tie.at)), count);
    }
    for (const version of spec.versions) {
      const from = DATASET_NOW_MS - version.liveFromDaysAgo * DAY_MS;
      const until = DATASET_NOW_MS - version.liveUntilDaysAgo * DAY_MS - 1;
      const planned = definition.instances.filter((instance) => instance.item.version === version.version).length;
      let remaining = version.instances - planned;
      if (version.bigTieGroup !== undefined) {
        add(version.version, instants.draw(from, until), version.bigTieGroup);
        remaining -= version.bigTieGroup;
      }
      for (const size of planTieGroups(rng, remaining)) add(version.version, instants.draw(from, until), size);
    }
    definition.instances.sort(newestFirst);
    definitions.set(spec.id.toLowerCase(), definition);
  }
  return { accountId, definitions };
}

/** Newest started first, ties by the hidden tieKey (then workflowId, should two keys collide): the stored order. */
export function newestFirst(a: StoredInstance, b: StoredInstance): number {
  if (a.startedMs !== b.startedMs) return b.startedMs - a.startedMs;
  if (a.tieKey !== b.tieKey) return a.tieKey - b.tieKey;
  return a.item.workflowId < b.item.workflowId ? -1 : a.item.workflowId > b.item.workflowId ? 1 : 0;
}

/** Recent workflows are often still running; old ones have mostly settled. */
function statusFor(rng: Rng, startedMs: number): EightByEightStatus {
  return DATASET_NOW_MS - startedMs < DAY_MS
    ? weighted(rng, [
        ["Runnable", 40],
        ["Complete", 50],
        ["Terminated", 7],
        ["Suspended", 3],
      ])
    : weighted(rng, [
        ["Complete", 84],
        ["Terminated", 9],
        ["Runnable", 4],
        ["Suspended", 3],
      ]);
}

/** Builds one instance. Exported for admin inserts. */
export function buildInstance(
  rng: Rng,
  workflowIds: ObjectIdMinter,
  definition: EightByEightDefinition,
  version: number,
  startedMs: number,
  forcedStatus?: string,
): StoredInstance {
  const status = forcedStatus ?? statusFor(rng, startedMs);
  const payload = definition.payload(rng);
  const subAccountId = chance(rng, 0.7) ? pick(rng, definition.subAccountIds) : undefined;
  // The trigger is raised a few milliseconds before the workflow starts, with .NET tick precision.
  const triggeredAt = formatDotNet(startedMs - int(rng, 5, 400), int(rng, 0, 9999));
  const item: EightByEightInstance = {
    workflowId: workflowIds.next(startedMs),
    data: {
      ...(payload === undefined ? {} : { payload }),
      accountId: definition.accountId,
      ...(subAccountId === undefined ? {} : { subAccountId }),
      triggeredAt,
    },
    definitionId: definition.id,
    version,
    status,
    startedAt: formatDotNet(startedMs),
    completedAt: status === "Complete" ? formatDotNet(completionTime(rng, startedMs)) : null,
  };
  return { item, startedMs, tieKey: tieKey(rng) };
}

function completionTime(rng: Rng, startedMs: number): number {
  const runtime = chance(rng, 0.8) ? int(rng, 150, 90 * SECOND_MS) : int(rng, 2 * MINUTE_MS, 6 * 60 * MINUTE_MS);
  const completed = startedMs + runtime;
  // Generated workflows completed before the dataset's "now"; inserted ones are after it anyway.
  return startedMs < DATASET_NOW_MS ? Math.min(completed, Math.max(startedMs + 1, DATASET_NOW_MS - 1)) : completed;
}

/**
 * MongoDB-style ObjectIds, as the docs' workflowIds look: 4 bytes of start time
 * in seconds, 5 random bytes fixed per minter, and a 3-byte counter.
 */
export class ObjectIdMinter {
  readonly #machine: string;
  #counter: number;

  constructor(rng: Rng) {
    this.#machine = hex(rng, 10);
    this.#counter = int(rng, 0, 0xffffff);
  }

  next(ms: number): string {
    this.#counter = (this.#counter + 1) % 0x1000000;
    const seconds = Math.floor(ms / 1000)
      .toString(16)
      .padStart(8, "0");
    return `${seconds}${this.#machine}${this.#counter.toString(16).padStart(6, "0")}`;
  }
}

/** A definition of a tenant by id (any case), or undefined. */
export function findDefinition(data: EightByEightTenantData, definitionId: string): EightByEightDefinition | undefined {
  return data.definitions.get(definitionId.toLowerCase());
}
