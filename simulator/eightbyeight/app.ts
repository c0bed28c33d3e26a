import { type Context, Hono, type MiddlewareHandler } from "hono";
import { createEightByEightAdmin } from "../admin/eightbyeight";
import { EIGHT_BY_EIGHT_API_KEYS, tenantForCredential } from "../credentials";
import { type EightByEightDefinition, findDefinition } from "../data/eightbyeight";
import { tieRanker } from "../data/ties";
import { emulatedGet } from "../shared/emulated";
import { itemJson, jsonResponse, jsonTextResponse, type SimulatorEnv } from "../shared/env";
import { windowOf } from "../shared/window";
import { ERROR_CODES, eightByEightError, eightByEightStatusError } from "./errors";
import { compareForWindow, filterInstances, sameStart } from "./listing";
import { parseListQuery } from "./query";
import type { EightByEightState } from "./state";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OBJECT_ID = /^[0-9a-f]{24}$/i;

const LIST_ROUTE = "/api/v1/accounts/:accountId/definitions/:definitionId/workflows";

/** The 8x8 Automation simulator: the emulated workflow routes plus the admin API under `/__admin`. */
export function createEightByEightApp(state: EightByEightState): Hono<SimulatorEnv> {
  const app = new Hono<SimulatorEnv>();
  app.route("/__admin", createEightByEightAdmin(state));

  const deps = {
    counters: state.counters,
    faults: state.faults,
    rateLimits: state.rateLimits,
    authenticate: authenticate(state),
    credentialOf: keyOf,
    vendorError: eightByEightStatusError,
  };

  emulatedGet(app, LIST_ROUTE, deps, (c) => {
    const definition = resolveDefinition(c, state);
    if (definition instanceof Response) return definition;
    const query = parseListQuery(c.req.query());
    if (!query.ok) return eightByEightError(400, ERROR_CODES.invalidParameter, query.message);
    const { limit, offset, version = definition.latestVersion } = query.value;
    const caps = [state.settings.page_size_cap, c.get("pageSizeCap")].filter((cap) => cap != null);
    const served = Math.min(limit, ...caps);
    const matching = filterInstances(definition.instances, { ...query.value, version });
    // Stored newest first with ties in the hidden order; the "window" order reorders the ties of this window only.
    const window =
      state.settings.tie_order === "window"
        ? windowOf(
            matching,
            offset,
            offset + served,
            sameStart,
            compareForWindow(tieRanker("window", `${offset}:${served}`)),
          )
        : matching.slice(offset, offset + served);
    state.counters.served(window.length);
    // JSON.stringify(items), with each item's JSON reused while the data stands.
    return jsonTextResponse(`[${window.map((record) => itemJson(record.item, state.revision)).join(",")}]`);
  });

  emulatedGet(app, `${LIST_ROUTE}/:workflowId`, deps, (c) => {
    const definition = resolveDefinition(c, state);
    if (definition instanceof Response) return definition;
    const workflowId = c.req.param("workflowId") ?? "";
    if (!OBJECT_ID.test(workflowId))
      return eightByEightError(400, ERROR_CODES.invalidWorkflowId, "Invalid workflow id.");
    const found = definition.instances.find(({ item }) => item.workflowId === workflowId.toLowerCase());
    if (found === undefined)
      return eightByEightError(404, ERROR_CODES.workflowNotFound, `Workflow ${workflowId} not found.`);
    return jsonResponse(200, found.item);
  });

  app.notFound(() => eightByEightStatusError(404));
  app.onError((error) => {
    console.error("8x8 simulator:", error);
    return eightByEightStatusError(500);
  });
  return app;
}

/** The key a request sent as `Authorization: Bearer <key>` ("" when none). */
const keyOf = (c: Context<SimulatorEnv>) => /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "")?.[1] ?? "";

/**
 * `Authorization: Bearer <key>` must carry one of the simulator's keys, not revoked; it selects the tenant. A revoked
 * key gets exactly what an unknown one gets (401, code 1100).
 */
function authenticate(state: EightByEightState): MiddlewareHandler<SimulatorEnv> {
  return async (c, next) => {
    const key = keyOf(c);
    const tenant = tenantForCredential(EIGHT_BY_EIGHT_API_KEYS, key);
    if (tenant === undefined || state.revoked.has(key))
      return eightByEightError(401, ERROR_CODES.unauthorized, "Missing or invalid API key.");
    c.set("tenant", tenant);
    await next();
  };
}

/**
 * The definition named by the path, or the documented error: 400/1000 when the
 * id is not a UUID, 404/1300 when the caller's account has no such definition
 * (another account's definition is "not found" too, never "forbidden").
 */
function resolveDefinition(c: Context<SimulatorEnv>, state: EightByEightState): EightByEightDefinition | Response {
  const definitionId = c.req.param("definitionId") ?? "";
  if (!UUID.test(definitionId))
    return eightByEightError(400, ERROR_CODES.invalidDefinitionId, "Invalid definition id.");
  const data = state.data[c.get("tenant")];
  const definition = c.req.param("accountId") === data.accountId ? findDefinition(data, definitionId) : undefined;
  return definition ?? eightByEightError(404, ERROR_CODES.definitionNotFound, `Definition ${definitionId} not found.`);
}
