import type { Hono } from "hono";
import { z } from "zod";
import { TENANTS, type Tenant } from "../credentials";
import {
  buildInstance,
  type EightByEightDefinition,
  type EightByEightTenantData,
  findDefinition,
  newestFirst,
} from "../data/eightbyeight";
import { chance } from "../data/random";
import { HEAD_TIE_CHANCE, INSERT_TIE_CHANCE, MAX_SMALL_TIE } from "../data/ties";
import { formatDotNet } from "../data/time";
import type { EightByEightState } from "../eightbyeight/app";
import { filterInstances } from "../eightbyeight/listing";
import { parseFilters } from "../eightbyeight/query";
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

const definitionsSchema = z.strictObject({
  /** How many new, empty definitions (version 1) to add: organisations watch dozens of them. */
  count: z.number().int().min(1).max(500),
  tenant: tenantSchema.default("demo"),
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

/** The 8x8 admin API: the shared routes plus insert, status, items and definitions. */
export function createEightByEightAdmin(state: EightByEightState): Hono {
  const admin = createAdminApp(state);
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

  /** Adds empty definitions shaped like the tenant's first one; ids come from the tenant's insert rng. */
  admin.post("/definitions", async (c) => {
    const body = await readBody(c, definitionsSchema);
    if (body instanceof Response) return body;
    const data = state.data[body.tenant];
    const model = data.definitions.values().next().value as EightByEightDefinition;
    const created = Array.from({ length: body.count }, () => {
      const id = uuidFrom(data.rng);
      const definition: EightByEightDefinition = {
        ...model,
        id,
        name: `generated-${id.slice(0, 8)}`,
        latestVersion: 1,
        instances: [],
      };
      data.definitions.set(id, definition);
      return describe(definition);
    });
    return jsonResponse(200, { definitions: created });
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

/** A version 4 UUID drawn from `rng` (deterministic, like everything the simulator makes). */
function uuidFrom(rng: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rng() * 16).toString(16));
  hex[12] = "4";
  hex[16] = "89ab"[Math.floor(rng() * 4)] as string;
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
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
