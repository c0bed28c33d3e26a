import type { Hono } from "hono";
import { z } from "zod";
import { TENANTS } from "../credentials";
import type { InkitBatch, InkitRun, InkitTenantData, Stored } from "../data/inkit";
import { batchDestinationStatus, buildBatch } from "../data/inkit-batches";
import { buildRun } from "../data/inkit-runs";
import { chance, pick } from "../data/random";
import type { InkitState } from "../inkit/app";
import { filterBatches, filterRuns, sortRecords } from "../inkit/listing";
import { type InkitSort, parseSortAndFilters } from "../inkit/query";
import { jsonResponse } from "../shared/env";
import { adminError, createAdminApp, readBody, readTenant, tenantSchema } from "./common";

const kindSchema = z.enum(["run", "workflow_batch", "document_batch"]);

const insertSchema = z.strictObject({
  kind: kindSchema,
  count: z.number().int().min(1).max(1000),
  tenant: tenantSchema.default("demo"),
  /** Defaults to "In Progress": new work has not finished yet. */
  status: z.string().min(1).default("In Progress"),
});

const statusSchema = z.strictObject({
  id: z.string().min(1),
  status: z.string().min(1),
  destination_status: z.string().min(1).optional(),
  tenant: tenantSchema.optional(),
});

/** The full dump is newest created first unless `sort` says otherwise. */
const CREATION_ORDER: InkitSort = { key: "created_at", descending: true };

/** The Inkit admin API: the shared routes plus insert, status and items. */
export function createInkitAdmin(state: InkitState): Hono {
  const admin = createAdminApp(state);

  admin.post("/insert", async (c) => {
    const body = await readBody(c, insertSchema);
    if (body instanceof Response) return body;
    const data = state.data[body.tenant];
    const created = Array.from({ length: body.count }, () => insertOne(data, body.kind, body.status));
    return jsonResponse(200, { items: created.reverse().map((record) => record.item) });
  });

  admin.post("/status", async (c) => {
    const body = await readBody(c, statusSchema);
    if (body instanceof Response) return body;
    for (const tenant of body.tenant === undefined ? TENANTS : [body.tenant]) {
      const data = state.data[tenant];
      const run = data.runs.find(({ item }) => item.id === body.id);
      if (run !== undefined) return jsonResponse(200, updateRun(data, run, body.status, body.destination_status));
      const batch = [...data.workflowBatches, ...data.documentBatches].find(({ item }) => item.id === body.id);
      if (batch !== undefined) return jsonResponse(200, updateBatch(data, batch, body.status, body.destination_status));
    }
    return adminError(404, "unknown_item", `No run or batch ${body.id}.`);
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
        ? sortRecords(filterRuns(data.runs, filters), sort)
        : sortRecords(
            filterBatches(kind.data === "workflow_batch" ? data.workflowBatches : data.documentBatches, filters),
            sort,
          );
    return jsonResponse(200, { items: records.map((record) => record.item) });
  });

  return admin;
}

/** Creates one item strictly newer than everything in the tenant and puts it at the head (batches always get destinations). */
function insertOne(
  data: InkitTenantData,
  kind: z.infer<typeof kindSchema>,
  status: string,
): Stored<InkitRun | InkitBatch> {
  const createdUs = data.clock.next();
  if (kind === "run") {
    const source = chance(data.rng, 0.7) ? pick(data.rng, data.flows) : pick(data.rng, data.templates);
    const run = buildRun(data.rng, data.ids, createdUs, source, { status });
    data.runs.unshift(run);
    return run;
  }
  if (kind === "workflow_batch") {
    const batch = buildBatch(data.rng, data.ids, kind, createdUs, pick(data.rng, data.flows).destinations, {
      status,
      allowEmpty: false,
    });
    data.workflowBatches.unshift(batch);
    return batch;
  }
  const batch = buildBatch(data.rng, data.ids, kind, createdUs, ["inkit_storage"], { status, allowEmpty: false });
  data.documentBatches.unshift(batch);
  return batch;
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
