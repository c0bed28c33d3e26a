import { type Context, Hono, type MiddlewareHandler } from "hono";
import { createInkitAdmin } from "../admin/inkit";
import { INKIT_API_TOKENS, tenantForCredential } from "../credentials";
import type { InkitBatch, Stored } from "../data/inkit-records";
import { tieRanker } from "../data/ties";
import { emulatedGet } from "../shared/emulated";
import { itemJson, jsonResponse, jsonTextResponse, type SimulatorEnv } from "../shared/env";
import { windowOf } from "../shared/window";
import { inkitError, inkitStatusError } from "./errors";
import { compareRecords, filterBatches, filterRuns, paginate, sameKey, sortedView } from "./listing";
import { type InkitListQuery, type InkitSort, parseListQuery } from "./query";
import type { InkitState } from "./state";

/** Runs default to updated_at (seed 000's metadata); batch listings to created_at (seeds 001 and 004). */
const RUNS_DEFAULT_SORT: InkitSort = { key: "updated_at", descending: true };
const BATCHES_DEFAULT_SORT: InkitSort = { key: "created_at", descending: true };

type BatchKind = "workflow_batch" | "document_batch";

/** The Inkit simulator: emulated `/v1/...` routes plus the admin API under `/__admin`. */
export function createInkitApp(state: InkitState): Hono<SimulatorEnv> {
  const app = new Hono<SimulatorEnv>();
  app.route("/__admin", createInkitAdmin(state));

  const deps = {
    counters: state.counters,
    faults: state.faults,
    rateLimits: state.rateLimits,
    authenticate: authenticate(state),
    credentialOf: tokenOf,
    vendorError: inkitStatusError,
  };
  const batches = (c: Context<SimulatorEnv>, kind: BatchKind): Stored<InkitBatch>[] => {
    const data = state.data[c.get("tenant")];
    return kind === "workflow_batch" ? data.workflowBatches : data.documentBatches;
  };

  emulatedGet(app, "/v1/invoke", deps, (c) => {
    const query = readListQuery(c, RUNS_DEFAULT_SORT, true);
    if (query instanceof Response) return query;
    return page(c, state, state.data[c.get("tenant")].runs, (runs) => filterRuns(runs, query.filters), query);
  });

  const listBatches = (kind: BatchKind) => (c: Context<SimulatorEnv>) => {
    const query = readListQuery(c, BATCHES_DEFAULT_SORT, false);
    if (query instanceof Response) return query;
    return page(c, state, batches(c, kind), (found) => filterBatches(found, query.filters), query);
  };
  emulatedGet(app, "/v1/invoke/batch", deps, listBatches("workflow_batch"));
  emulatedGet(app, "/v1/batch", deps, listBatches("document_batch"));

  const getBatch = (kind: BatchKind) => (c: Context<SimulatorEnv>) => {
    const batchId = c.req.param("batchId") ?? "";
    const found = batches(c, kind).find(({ item }) => item.id === batchId);
    if (found === undefined) return inkitError(404, "not_found", `Batch ${batchId} not found.`);
    return jsonResponse(200, kind === "document_batch" ? withoutDestinationStatus(found.item) : found.item);
  };
  emulatedGet(app, "/v1/invoke/batch/:batchId", deps, getBatch("workflow_batch"));
  emulatedGet(app, "/v1/batch/:batchId", deps, getBatch("document_batch"));

  app.notFound((c) => inkitError(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`));
  app.onError((error) => {
    console.error("inkit simulator:", error);
    return inkitStatusError(500);
  });
  return app;
}

/** The token a request sent in `X-Inkit-API-Token` ("" when none). */
const tokenOf = (c: Context<SimulatorEnv>) => c.req.header("X-Inkit-API-Token") ?? "";

/**
 * `X-Inkit-API-Token` must be one of the simulator's tokens, not revoked; it selects the tenant. A revoked token gets
 * exactly what an unknown one gets: the docs list 401 and say nothing that would tell the two apart.
 */
function authenticate(state: InkitState): MiddlewareHandler<SimulatorEnv> {
  return async (c, next) => {
    const token = tokenOf(c);
    const tenant = tenantForCredential(INKIT_API_TOKENS, token);
    if (tenant === undefined || state.revoked.has(token))
      return inkitError(401, "unauthorized", "Missing or invalid X-Inkit-API-Token.");
    c.set("tenant", tenant);
    await next();
  };
}

function readListQuery(
  c: Context<SimulatorEnv>,
  defaultSort: InkitSort,
  acceptsDataId: boolean,
): InkitListQuery | Response {
  const parsed = parseListQuery(c.req.query(), defaultSort, { acceptsDataId });
  return parsed.ok ? parsed.value : inkitError(400, "invalid_parameter", parsed.message);
}

/**
 * The silent cap (settings) and any page_size_cap fault clamp page_size (the lowest wins), and the metadata reports
 * the clamped value, as a capping API would. In "window" tie order, ties are ordered for this (page, page_size).
 * Filters keep the sorted order, so the sorted list is filtered rather than the filtered list sorted.
 */
function page<T extends { id: string; name: string | null; status: string }>(
  c: Context<SimulatorEnv>,
  state: InkitState,
  records: readonly Stored<T>[],
  filter: (sorted: readonly Stored<T>[]) => readonly Stored<T>[],
  query: InkitListQuery,
): Response {
  const caps = [state.settings.page_size_cap, c.get("pageSizeCap")].filter((cap) => cap != null);
  const pageSize = Math.min(query.pageSize, ...caps);
  const rank = tieRanker(state.settings.tie_order, `${query.page}:${pageSize}`);
  const sorted = filter(sortedView(records, query.sort, state.revision));
  const result = paginate(sorted, query.page, pageSize, query.sort, (start, end) =>
    windowOf(sorted, start, end, sameKey(query.sort), compareRecords(query.sort, rank)),
  );
  state.counters.served(result.items.length);
  // JSON.stringify({ items, metadata }), with each item's JSON reused while the data stands.
  const items = result.items.map((record) => itemJson(record.item, state.revision)).join(",");
  return jsonTextResponse(`{"items":[${items}],"metadata":${JSON.stringify(result.metadata)}}`);
}

/** Seed 002 (retrieve one document batch) shows per-destination counts without the lowercase `status`. */
function withoutDestinationStatus(batch: InkitBatch): unknown {
  const destinations = Object.fromEntries(
    Object.entries(batch.destinations).map(([name, { status: _status, ...counts }]) => [name, counts]),
  );
  return { ...batch, destinations };
}
