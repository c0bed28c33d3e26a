import type { Hono } from "hono";
import { z } from "zod";
import { TENANTS, type Tenant } from "../credentials";
import {
  buildInstance,
  type EightByEightDefinition,
  type EightByEightInstance,
  type EightByEightTenantData,
  findDefinition,
} from "../data/eightbyeight";
import { formatDotNet } from "../data/time";
import type { EightByEightState } from "../eightbyeight/app";
import { filterInstances } from "../eightbyeight/listing";
import { parseFilters } from "../eightbyeight/query";
import { jsonResponse } from "../shared/env";
import { adminError, createAdminApp, readBody, readTenant, tenantSchema } from "./common";

const insertSchema = z.strictObject({
  definitionId: z.string().min(1),
  count: z.number().int().min(1).max(1000),
  /** Defaults to "Runnable": a workflow that just started. */
  status: z.string().min(1).default("Runnable"),
  /** Defaults to the latest version; a higher one publishes that version (it becomes the latest). */
  version: z.number().int().min(1).optional(),
  tenant: tenantSchema.optional(),
});

const statusSchema = z.strictObject({
  workflowId: z.string().min(1),
  status: z.string().min(1),
  tenant: tenantSchema.optional(),
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
    const version = body.version ?? found.definition.latestVersion;
    found.definition.latestVersion = Math.max(found.definition.latestVersion, version);
    const created = Array.from({ length: body.count }, () =>
      insertOne(found.data, found.definition, version, body.status),
    );
    return jsonResponse(200, { items: created.reverse() });
  });

  admin.post("/status", async (c) => {
    const body = await readBody(c, statusSchema);
    if (body instanceof Response) return body;
    for (const tenant of body.tenant === undefined ? TENANTS : [body.tenant]) {
      const data = state.data[tenant];
      for (const definition of data.definitions.values()) {
        const found = definition.instances.find(({ item }) => item.workflowId === body.workflowId.toLowerCase());
        if (found === undefined) continue;
        found.item.status = body.status;
        found.item.completedAt = body.status === "Complete" ? formatDotNet(data.clock.next()) : null;
        return jsonResponse(200, found.item);
      }
    }
    return adminError(404, "unknown_workflow", `No workflow ${body.workflowId}.`);
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

  admin.get("/definitions", (c) => {
    const tenant = readTenant(c);
    if (tenant instanceof Response) return tenant;
    return jsonResponse(200, { definitions: [...state.data[tenant].definitions.values()].map(describe) });
  });

  return admin;
}

function insertOne(
  data: EightByEightTenantData,
  definition: EightByEightDefinition,
  version: number,
  status: string,
): EightByEightInstance {
  const record = buildInstance(data.rng, data.workflowIds, definition, version, data.clock.next(), status);
  definition.instances.unshift(record);
  return record.item;
}

function describe(definition: EightByEightDefinition) {
  const versions: Record<string, number> = {};
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
