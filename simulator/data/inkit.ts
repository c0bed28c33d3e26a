import { TENANTS, type Tenant } from "../credentials";
import { buildBatch } from "./inkit-batches";
import {
  DEMO_FLOWS,
  DEMO_TEMPLATES,
  type FlowSpec,
  type InkitDestinationName,
  OTHER_FLOWS,
  OTHER_TEMPLATES,
  type TemplateSpec,
} from "./inkit-catalog";
import type { FlowRecord, InkitBatch, InkitDataset, InkitRun, InkitTenantData, Stored } from "./inkit-records";
import { buildRun } from "./inkit-runs";
import { chance, DistinctInstants, IdMinter, int, mulberry32, pick, type Rng } from "./random";
import { BIG_TIE_GROUP, CROSS_PROVIDER_TIES, planTieGroups } from "./ties";
import { DAY_US, formatMicros, HeadClock, NOW_US, SECOND_US } from "./time";

interface InkitProfile {
  seed: number;
  runs: number;
  workflowBatches: number;
  documentBatches: number;
  flows: readonly FlowSpec[];
  templates: readonly TemplateSpec[];
  /** Runs created in one transaction: one exact tie bigger than a page of 50 (0 = none). */
  bigTieGroup: number;
  /** Runs at the instants of CROSS_PROVIDER_TIES, which 8x8 instances share. */
  crossProviderTies: boolean;
}

const PROFILES: Record<Tenant, InkitProfile> = {
  demo: {
    seed: 0x1a7c_2026,
    runs: 3000,
    workflowBatches: 200,
    documentBatches: 200,
    flows: DEMO_FLOWS,
    templates: DEMO_TEMPLATES,
    bigTieGroup: BIG_TIE_GROUP,
    crossProviderTies: true,
  },
  other: {
    seed: 0x07e4_0001,
    runs: 40,
    workflowBatches: 10,
    documentBatches: 10,
    flows: OTHER_FLOWS,
    templates: OTHER_TEMPLATES,
    bigTieGroup: 0,
    crossProviderTies: false,
  },
};

const WINDOW_START_US = NOW_US - 120 * DAY_US;

type SeededTenant = Pick<InkitTenantData, "runs" | "workflowBatches" | "documentBatches" | "flows" | "templates">;

/** Each tenant's seeded items, generated once: never handed out, only copied. */
let seeded: Record<Tenant, SeededTenant> | undefined;

/**
 * Builds both tenants' data. Same output on every call: the seeded items are generated on the first call, and every
 * call gets copies of them (admin writes change items in place) with insert state of its own, so a reset costs a
 * copy rather than a generation.
 */
export function generateInkitDataset(): InkitDataset {
  seeded ??= Object.fromEntries(TENANTS.map((tenant) => [tenant, generateTenant(PROFILES[tenant])])) as Record<
    Tenant,
    SeededTenant
  >;
  const dataset: Partial<InkitDataset> = {};
  for (const tenant of TENANTS) dataset[tenant] = copyTenant(seeded[tenant], PROFILES[tenant]);
  return dataset as InkitDataset;
}

function copyTenant(items: SeededTenant, profile: InkitProfile): InkitTenantData {
  const insertRng = mulberry32(profile.seed ^ 0x5eed);
  return {
    runs: items.runs.map(copyStored),
    workflowBatches: items.workflowBatches.map(copyStored),
    documentBatches: items.documentBatches.map(copyStored),
    // Only read, never written.
    flows: items.flows,
    templates: items.templates,
    ids: new IdMinter(insertRng),
    rng: insertRng,
    // Inserted items land 1 to 5 seconds apart, after everything generated.
    clock: new HeadClock(NOW_US, insertRng, SECOND_US, 5 * SECOND_US),
  };
}

function copyStored<T>(record: Stored<T>): Stored<T> {
  return { ...record, item: structuredClone(record.item) };
}

function generateTenant(profile: InkitProfile): SeededTenant {
  const rng = mulberry32(profile.seed);
  const ids = new IdMinter(rng);
  const instants = new DistinctInstants(rng);
  const flows = profile.flows.map((spec) => ({
    ...spec,
    id: ids.next("flow"),
    createdAt: formatMicros(WINDOW_START_US - int(rng, 5 * DAY_US, 400 * DAY_US)),
  }));
  const templates = profile.templates.map((spec) => ({ ...spec, id: ids.next("tmpl") }));

  // Every list is built in tie groups: items of one group share their created_at to the microsecond.
  const batchFlows = new Map<string, FlowRecord>();
  const workflowBatches = planTieGroups(rng, profile.workflowBatches).flatMap((size) => {
    const createdUs = instants.draw(WINDOW_START_US, NOW_US - 1);
    return Array.from({ length: size }, () => {
      const source = pick(rng, flows);
      const batch = buildBatch(rng, ids, "workflow_batch", createdUs, source.destinations);
      batchFlows.set(batch.item.id, source);
      return batch;
    });
  });
  const documentBatches = planTieGroups(rng, profile.documentBatches).flatMap((size) => {
    const createdUs = instants.draw(WINDOW_START_US, NOW_US - 1);
    return Array.from({ length: size }, () =>
      buildBatch(rng, ids, "document_batch", createdUs, documentBatchDestinations(rng)),
    );
  });

  const anySource = () => (chance(rng, 0.7) ? pick(rng, flows) : pick(rng, templates));
  // Some runs belong to a workflow batch: same flow, created minutes after the batch, together.
  const linkable = workflowBatches.filter((batch) => batch.createdUs < NOW_US - 3600 * SECOND_US);
  const batchRuns = (batch: Stored<InkitBatch>, size: number) => {
    const createdUs = instants.draw(batch.createdUs + SECOND_US, batch.createdUs + 900 * SECOND_US);
    const flow = batchFlows.get(batch.item.id) ?? pick(rng, flows);
    return Array.from({ length: size }, () => buildRun(rng, ids, createdUs, flow, { batchId: batch.item.id }));
  };

  const runs: Stored<InkitRun>[] = [];
  if (profile.crossProviderTies) {
    for (const tie of CROSS_PROVIDER_TIES) {
      const createdUs = instants.reserve(Date.parse(tie.at) * 1000);
      for (let i = 0; i < tie.inkitRuns; i++) runs.push(buildRun(rng, ids, createdUs, anySource()));
    }
  }
  if (profile.bigTieGroup > 0) {
    // A big batch whose runs were inserted in one transaction, so they share the transaction's timestamp.
    const big = linkable.filter((batch) => batch.item.total >= profile.bigTieGroup);
    runs.push(...batchRuns(pick(rng, big.length > 0 ? big : linkable), profile.bigTieGroup));
  }
  for (const size of planTieGroups(rng, profile.runs - runs.length)) {
    if (linkable.length > 0 && chance(rng, 0.12)) runs.push(...batchRuns(pick(rng, linkable), size));
    else {
      const createdUs = instants.draw(WINDOW_START_US, NOW_US - 1);
      for (let i = 0; i < size; i++) runs.push(buildRun(rng, ids, createdUs, anySource()));
    }
  }

  return {
    runs: newestFirst(runs),
    workflowBatches: newestFirst(workflowBatches),
    documentBatches: newestFirst(documentBatches),
    flows,
    templates,
  };
}

/** Newest created first, ties by the hidden tieKey (then id, should two keys collide). */
export function newestFirst<T extends { id: string }>(records: Stored<T>[]): Stored<T>[] {
  return records.sort(
    (a, b) =>
      b.createdUs - a.createdUs || a.tieKey - b.tieKey || (a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0),
  );
}

function documentBatchDestinations(rng: Rng): InkitDestinationName[] {
  if (!chance(rng, 0.15)) return ["inkit_storage"];
  const names: InkitDestinationName[] = [
    "inkit_storage",
    pick(rng, ["docusign", "magic_link", "salesforce", "sepire"] as const),
  ];
  return names.sort();
}
