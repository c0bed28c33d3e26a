import type { Hono } from "hono";
import { z } from "zod";
import { INKIT_API_TOKENS, TENANTS, type Tenant } from "../credentials";
import { newestFirst } from "../data/inkit";
import { batchDestinationStatus, buildBatch } from "../data/inkit-batches";
import type { InkitBatch, InkitRun, InkitTenantData, Stored } from "../data/inkit-records";
import { buildRun } from "../data/inkit-runs";
import { chance, pick } from "../data/random";
import { HEAD_TIE_CHANCE, INSERT_TIE_CHANCE, MAX_SMALL_TIE } from "../data/ties";
import { filterBatches, filterRuns, sortedView } from "../inkit/listing";
import { type InkitSort, parseSortAndFilters } from "../inkit/query";
import type { InkitState } from "../inkit/state";
import { jsonResponse } from "../shared/env";
import { adminError, createAdminApp, readBody, readTenant, tenantSchema } from "./common";

const kindSchema = z.enum(["run", "workflow_batch", "document_batch"]);

const insertSchema = z.strictObject({
  kind: kindSchema,
  count: z.number().int().min(1).max(10_000),
  tenant: tenantSchema.default("demo"),
  /** Defaults to "In Progress": new work has not finished yet. */
  status: z.string().min(1).default("In Progress"),
  /** true: the first item ties with the list's newest item; false: it does not; absent: a 1 in 4 chance. */
  tie_head: z.boolean().optional(),
});

const statusSchema = z
  .strictObject({
    id: z.string().min(1).optional(),
    /** Many items at once (the same change for each): one call instead of thousands. */
    ids: z.array(z.string().min(1)).min(1).max(10_000).optional(),
    status: z.string().min(1),
    destination_status: z.string().min(1).optional(),
    tenant: tenantSchema.optional(),
  })
  .refine((body) => (body.id === undefined) !== (body.ids === undefined), { message: "give exactly one of id, ids" });

const deleteSchema = z.strictObject({
  ids: z.array(z.string().min(1)).min(1).max(10_000),
  tenant: tenantSchema.optional(),
});

/** The full dump is newest created first unless `sort` says otherwise. */
const CREATION_ORDER: InkitSort = { key: "created_at", descending: true };

/** The Inkit admin API: the shared routes plus insert, status, delete and items. */
export function createInkitAdmin(state: InkitState): Hono {
  const admin = createAdminApp(state, INKIT_API_TOKENS);

  admin.post("/insert", async (c) => {
    const body = await readBody(c, insertSchema);
    if (body instanceof Response) return body;
    const data = state.data[body.tenant];
    const list = listOf(data, body.kind);
    const times = insertTimes(data, list, body.count, body.tie_head);
    const created = times.map((time) => insertOne(data, body.kind, body.status, time));
    list.push(...created);
    newestFirst(list);
    return jsonResponse(200, { items: newestFirst(created).map((record) => record.item) });
  });

  admin.post("/status", async (c) => {
    const body = await readBody(c, statusSchema);
    if (body instanceof Response) return body;
    const tenants = body.tenant === undefined ? TENANTS : [body.tenant];
    const ids = body.ids ?? [body.id as string];
    // All or nothing: every id must name a run or batch before any changes.
    const found = ids.map((id) => locateItem(state, tenants, id));
    const missing = ids.find((_, i) => found[i] === undefined);
    if (missing !== undefined) return adminError(404, "unknown_item", `No run or batch ${missing}.`);
    const updated = found.map((hit) => {
      const { data, run, batch } = hit as NonNullable<(typeof found)[number]>;
      return run
        ? updateRun(data, run, body.status, body.destination_status)
        : updateBatch(data, batch as Stored<InkitBatch>, body.status, body.destination_status);
    });
    return jsonResponse(200, body.ids === undefined ? updated[0] : { items: updated });
  });

  /** Items the upstream stops listing (a retention purge, a deletion): gone from every listing and lookup. */
  admin.post("/delete", async (c) => {
    const body = await readBody(c, deleteSchema);
    if (body instanceof Response) return body;
    const tenants = body.tenant === undefined ? TENANTS : [body.tenant];
    const missing = body.ids.find((id) => locateItem(state, tenants, id) === undefined);
    if (missing !== undefined) return adminError(404, "unknown_item", `No run or batch ${missing}.`);
    const ids = new Set(body.ids);
    for (const tenant of tenants) {
      const data = state.data[tenant];
      for (const list of [data.runs, data.workflowBatches, data.documentBatches] as Stored<{ id: string }>[][]) {
        const kept = list.filter(({ item }) => !ids.has(item.id));
        list.splice(0, list.length, ...kept);
      }
    }
    return jsonResponse(200, { deleted: body.ids.length });
  });

  admin.get("/items", (c) => {
    const tenant = readTenant(c);
    if (tenant instanceof Response) return tenant;
    const kind = kindSchema.safeParse(c.req.query("kind"));
    if (!kind.success) return adminError(400, "invalid_kind", "kind must be run, workflow_batch or document_batch.");
    const query = parseSortAndFilters(c.req.query(), CREATION_ORDER, { acceptsDataId: kind.data === "run" });
    if (!query.ok) return adminError(400, "invalid_parameter", query.message);
    const data = state.data[tenant];
    const { sort, filters } = query.value;
    const records =
      kind.data === "run"
        ? filterRuns(sortedView(data.runs, sort, state.revision), filters)
        : filterBatches(
            sortedView(
              kind.data === "workflow_batch" ? data.workflowBatches : data.documentBatches,
              sort,
              state.revision,
            ),
            filters,
          );
    return jsonResponse(200, { items: records.map((record) => record.item) });
  });

  return admin;
}

type Kind = z.infer<typeof kindSchema>;

/** The run or batch with this id, and the tenant data holding it. */
function locateItem(state: InkitState, tenants: readonly Tenant[], id: string) {
  for (const tenant of tenants) {
    const data = state.data[tenant];
    const run = data.runs.find(({ item }) => item.id === id);
    if (run !== undefined) return { data, run, batch: undefined };
    const batch = [...data.workflowBatches, ...data.documentBatches].find(({ item }) => item.id === id);
    if (batch !== undefined) return { data, run: undefined, batch };
  }
  return undefined;
}

function listOf(data: InkitTenantData, kind: Kind): Stored<InkitRun | InkitBatch>[] {
  return kind === "run" ? data.runs : kind === "workflow_batch" ? data.workflowBatches : data.documentBatches;
}

interface InsertTime {
  createdUs: number;
  updatedUs: number;
}

/**
 * The times of each inserted item, from the tenant's insert rng: the first may tie with the list's newest item
 * (tie_head), and each later one may share the previous one's instant (groups of at most 5); otherwise newer.
 * An item is last updated when inserted, so a head tie still goes to the top of the default (updated_at) sort.
 */
function insertTimes(
  data: InkitTenantData,
  list: readonly Stored<unknown>[],
  count: number,
  tieHead: boolean | undefined,
): InsertTime[] {
  const times: InsertTime[] = [];
  const head = list.reduce((newest, record) => Math.max(newest, record.createdUs), Number.NEGATIVE_INFINITY);
  let groupSize = 0;
  for (let i = 0; i < count; i++) {
    const previous = times[i - 1];
    if (i === 0 && list.length > 0 && (tieHead ?? chance(data.rng, HEAD_TIE_CHANCE))) {
      times.push({ createdUs: head, updatedUs: Math.max(head, data.clock.now) });
    } else if (previous !== undefined && groupSize < MAX_SMALL_TIE && chance(data.rng, INSERT_TIE_CHANCE)) {
      times.push(previous);
    } else {
      const now = data.clock.next();
      times.push({ createdUs: now, updatedUs: now });
      groupSize = 0;
    }
    groupSize += 1;
  }
  return times;
}

/** Creates one item (batches always get destinations). */
function insertOne(
  data: InkitTenantData,
  kind: Kind,
  status: string,
  { createdUs, updatedUs }: InsertTime,
): Stored<InkitRun | InkitBatch> {
  const record =
    kind === "run"
      ? buildRun(
          data.rng,
          data.ids,
          createdUs,
          chance(data.rng, 0.7) ? pick(data.rng, data.flows) : pick(data.rng, data.templates),
          { status },
        )
      : buildBatch(
          data.rng,
          data.ids,
          kind,
          createdUs,
          kind === "workflow_batch" ? pick(data.rng, data.flows).destinations : ["inkit_storage"],
          { status, allowEmpty: false },
        );
  record.updatedUs = updatedUs;
  return record;
}

/** A destination_status is applied to every piece too, so the run stays self-consistent. */
function updateRun(
  data: InkitTenantData,
  run: Stored<InkitRun>,
  status: string,
  destinationStatus: string | undefined,
): InkitRun {
  run.item.status = status;
  if (destinationStatus !== undefined) {
    run.item.destination_status = destinationStatus;
    for (const piece of Object.values(run.item.destinations)) piece.status = destinationStatus;
  }
  run.updatedUs = data.clock.next();
  return run.item;
}

/** "Completed" and "Failed" settle in-progress counts; destination_status overrides each destination's status. */
function updateBatch(
  data: InkitTenantData,
  batch: Stored<InkitBatch>,
  status: string,
  destinationStatus: string | undefined,
): InkitBatch {
  batch.item.status = status;
  for (const destination of Object.values(batch.item.destinations)) {
    if (status === "Completed") destination.completed += destination.in_progress;
    if (status === "Failed") destination.failed += destination.in_progress;
    if (status === "Completed" || status === "Failed") destination.in_progress = 0;
    destination.status =
      destinationStatus ?? batchDestinationStatus(destination.completed, destination.failed, destination.in_progress);
  }
  batch.updatedUs = data.clock.next();
  return batch.item;
}
