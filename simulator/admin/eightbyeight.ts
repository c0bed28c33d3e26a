import type { Hono } from "hono";
import { z } from "zod";
import { EIGHT_BY_EIGHT_API_KEYS, TENANTS, type Tenant } from "../credentials";
import {
  buildInstance,
  type EightByEightDefinition,
  type EightByEightTenantData,
  findDefinition,
  newestFirst,
} from "../data/eightbyeight";
import { addOrganisation } from "../data/organisation";
import { chance } from "../data/random";
import { HEAD_TIE_CHANCE, INSERT_TIE_CHANCE, MAX_SMALL_TIE } from "../data/ties";
import { formatDotNet } from "../data/time";
import { filterInstances } from "../eightbyeight/listing";
import { parseFilters } from "../eightbyeight/query";
import type { EightByEightState } from "../eightbyeight/state";
import { jsonResponse } from "../shared/env";
import { adminError, createAdminApp, readBody, readTenant, tenantSchema } from "./common";

const insertSchema = z.strictObject({
  definitionId: z.string().min(1),
  count: z.number().int().min(1).max(10_000),
  /** Defaults to "Runnable": a workflow that just started. */
  status: z.string().min(1).default("Runnable"),
  /** Defaults to the latest version; a higher one publishes that version (it becomes the latest). */
  version: z.number().int().min(1).optional(),
  tenant: tenantSchema.optional(),
  /** true: the first instance ties with the version's newest; false: it does not; absent: a 1 in 4 chance. */
  tie_head: z.boolean().optional(),
});

/** At most this many instances in one call (count × instances): a few seconds of generation, tens of MB. */
const MAX_ORGANISATION_INSTANCES = 200_000;

const definitionsSchema = z
  .strictObject({
    /** How many new definitions (version 1) to add: organisations watch dozens of them. */
    count: z.number().int().min(1).max(500),
    tenant: tenantSchema.default("demo"),
    /** Seeded instances per new definition, with ties across the new definitions and with Inkit; 0: empty. */
    instances: z.number().int().min(0).max(10_000).default(0),
  })
  .refine((body) => body.count * body.instances <= MAX_ORGANISATION_INSTANCES, {
    message: `count × instances must be at most ${MAX_ORGANISATION_INSTANCES}`,
  });

const deleteSchema = z.strictObject({
  workflowIds: z.array(z.string().min(1)).min(1).max(10_000),
  tenant: tenantSchema.optional(),
});

const publishSchema = z.strictObject({
  definitionId: z.string().min(1),
  tenant: tenantSchema.optional(),
});

const statusSchema = z
  .strictObject({
    workflowId: z.string().min(1).optional(),
    /** Many instances at once (the same change for each): one call instead of thousands. */
    workflowIds: z.array(z.string().min(1)).min(1).max(10_000).optional(),
    status: z.string().min(1),
    tenant: tenantSchema.optional(),
  })
  .refine((body) => (body.workflowId === undefined) !== (body.workflowIds === undefined), {
    message: "give exactly one of workflowId, workflowIds",
  });

/** The 8x8 admin API: the shared routes plus insert, status, delete, items and definitions. */
export function createEightByEightAdmin(state: EightByEightState): Hono {
  const admin = createAdminApp(state, EIGHT_BY_EIGHT_API_KEYS);
  const locate = (definitionId: string, tenant: Tenant | undefined) => {
    for (const candidate of tenant === undefined ? TENANTS : [tenant]) {
      const data = state.data[candidate];
      const definition = findDefinition(data, definitionId);
      if (definition !== undefined) return { data, definition };
    }
    return undefined;
  };

  admin.post("/insert", async (c) => {
    const body = await readBody(c, insertSchema);
    if (body instanceof Response) return body;
    const found = locate(body.definitionId, body.tenant);
    if (found === undefined) return adminError(404, "unknown_definition", `No definition ${body.definitionId}.`);
    const { data, definition } = found;
    const version = body.version ?? definition.latestVersion;
    definition.latestVersion = Math.max(definition.latestVersion, version);
    const created = insertTimes(data, definition, version, body.count, body.tie_head).map((startedMs) =>
      buildInstance(data.rng, data.workflowIds, definition, version, startedMs, body.status),
    );
    definition.instances.push(...created);
    definition.instances.sort(newestFirst);
    return jsonResponse(200, { items: created.sort(newestFirst).map((record) => record.item) });
  });

  /** A new, empty version becomes the latest, so the default listing switches to it (as publishing does). */
  admin.post("/publish", async (c) => {
    const body = await readBody(c, publishSchema);
    if (body instanceof Response) return body;
    const found = locate(body.definitionId, body.tenant);
    if (found === undefined) return adminError(404, "unknown_definition", `No definition ${body.definitionId}.`);
    found.definition.latestVersion += 1;
    return jsonResponse(200, describe(found.definition));
  });

  admin.post("/status", async (c) => {
    const body = await readBody(c, statusSchema);
    if (body instanceof Response) return body;
    const tenants = body.tenant === undefined ? TENANTS : [body.tenant];
    const ids = (body.workflowIds ?? [body.workflowId as string]).map((id) => id.toLowerCase());
    // All or nothing: every id must name an instance before any changes.
    const found = ids.map((id) => locateInstance(state, tenants, id));
    const missing = ids.find((_, i) => found[i] === undefined);
    if (missing !== undefined) return adminError(404, "unknown_workflow", `No workflow ${missing}.`);
    const updated = found.map((hit) => {
      const { data, record } = hit as NonNullable<(typeof found)[number]>;
      record.item.status = body.status;
      record.item.completedAt = body.status === "Complete" ? formatDotNet(data.clock.next()) : null;
      return record.item;
    });
    return jsonResponse(200, body.workflowIds === undefined ? updated[0] : { items: updated });
  });

  /** Instances the upstream stops listing (a retention purge, a deletion): gone from every listing. */
  admin.post("/delete", async (c) => {
    const body = await readBody(c, deleteSchema);
    if (body instanceof Response) return body;
    const tenants = body.tenant === undefined ? TENANTS : [body.tenant];
    const ids = body.workflowIds.map((id) => id.toLowerCase());
    const missing = ids.find((id) => locateInstance(state, tenants, id) === undefined);
    if (missing !== undefined) return adminError(404, "unknown_workflow", `No workflow ${missing}.`);
    const gone = new Set(ids);
    for (const tenant of tenants)
      for (const definition of state.data[tenant].definitions.values()) {
        const kept = definition.instances.filter(({ item }) => !gone.has(item.workflowId));
        definition.instances.splice(0, definition.instances.length, ...kept);
      }
    return jsonResponse(200, { deleted: ids.length });
  });

  /** Every instance of a definition (all versions unless ?version=), newest started first. */
  admin.get("/items", (c) => {
    const definitionId = c.req.query("definitionId");
    if (definitionId === undefined) return adminError(400, "missing_definition", "definitionId is required.");
    const found = locate(definitionId, undefined);
    if (found === undefined) return adminError(404, "unknown_definition", `No definition ${definitionId}.`);
    const filters = parseFilters(c.req.query());
    if (!filters.ok) return adminError(400, "invalid_parameter", filters.message);
    return jsonResponse(200, {
      items: filterInstances(found.definition.instances, filters.value).map(({ item }) => item),
    });
  });

  /**
   * Adds definitions shaped like the tenant's first one; ids come from the tenant's insert rng. With `instances`, each
   * holds that many seeded instances whose start instants tie across the new definitions and with Inkit runs
   * (simulator/data/organisation.ts); `shared` lists those instants.
   */
  admin.post("/definitions", async (c) => {
    const body = await readBody(c, definitionsSchema);
    if (body instanceof Response) return body;
    const { definitions, shared } = addOrganisation(state.data[body.tenant], body);
    return jsonResponse(200, {
      definitions: definitions.map(describe),
      shared: shared.map((instant) => ({
        startedAt: formatDotNet(instant.startedMs),
        definitionIds: instant.members.map((m) => (definitions[m.index] as EightByEightDefinition).id),
        instances: instant.members.reduce((sum, m) => sum + m.count, 0),
        inkitRuns: instant.inkitRuns,
      })),
    });
  });

  admin.get("/definitions", (c) => {
    const tenant = readTenant(c);
    if (tenant instanceof Response) return tenant;
    return jsonResponse(200, { definitions: [...state.data[tenant].definitions.values()].map(describe) });
  });

  return admin;
}

/**
 * startedAt of each inserted instance, from the tenant's insert rng: the first may tie with the newest instance of
 * the version (tie_head), and each later one may share the previous one's millisecond (groups of at most 5).
 */
function insertTimes(
  data: EightByEightTenantData,
  definition: EightByEightDefinition,
  version: number,
  count: number,
  tieHead: boolean | undefined,
): number[] {
  const head = definition.instances.find((record) => record.item.version === version)?.startedMs;
  const times: number[] = [];
  let groupSize = 0;
  for (let i = 0; i < count; i++) {
    const previous = times[i - 1];
    if (i === 0 && head !== undefined && (tieHead ?? chance(data.rng, HEAD_TIE_CHANCE))) times.push(head);
    else if (previous !== undefined && groupSize < MAX_SMALL_TIE && chance(data.rng, INSERT_TIE_CHANCE))
      times.push(previous);
    else {
      times.push(data.clock.next());
      groupSize = 0;
    }
    groupSize += 1;
  }
  return times;
}

/** The instance with this workflow id (lower case), and the tenant data holding it. */
function locateInstance(state: EightByEightState, tenants: readonly Tenant[], workflowId: string) {
  for (const tenant of tenants) {
    const data = state.data[tenant];
    for (const definition of data.definitions.values()) {
      const record = definition.instances.find(({ item }) => item.workflowId === workflowId);
      if (record !== undefined) return { data, record };
    }
  }
  return undefined;
}

/** Instance counts of every version up to the latest, 0 for a version without instances. */
function describe(definition: EightByEightDefinition) {
  const versions: Record<string, number> = {};
  for (let version = 1; version <= definition.latestVersion; version++) versions[version] = 0;
  for (const { item } of definition.instances) versions[item.version] = (versions[item.version] ?? 0) + 1;
  return {
    id: definition.id,
    name: definition.name,
    accountId: definition.accountId,
    latestVersion: definition.latestVersion,
    instancesByVersion: versions,
    total: definition.instances.length,
  };
}
