import type { RouteHandler, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { listResponse } from "../../http/list-response";
import { serveListing } from "../../http/listing";
import type { Direction, Keyed } from "../../paging/order";
import { upstreamCredential } from "../../providers/catalog";
import {
  type InkitListing,
  inkitDocumentBatch,
  inkitDocumentBatches,
  inkitRuns,
  inkitSource,
  inkitWorkflowBatches,
} from "../../providers/inkit/source";
import { DEFAULT_INKIT_SORT } from "../../schemas/filters";
import { sentFilters } from "../filters";
import type { GetBatchRoute, ListBatchesRoute, ListRunsRoute, ListWorkflowBatchesRoute } from "./inkit.routes";

const creationOrder: Record<string, Direction> = { [DEFAULT_INKIT_SORT]: "desc", created_at: "asc" };

/** One page of an Inkit listing; every Inkit list route differs only in which listing it reads. */
function listInkit<I extends z.ZodType, T extends Keyed>(
  c: Context<AppEnv>,
  route: string,
  listing: InkitListing<I, T>,
  { limit, cursor, ...query }: { limit?: number; cursor?: string },
) {
  const credential = upstreamCredential(c, "inkit");
  return serveListing(c, {
    route,
    sent: sentFilters(query),
    defaults: { sort: DEFAULT_INKIT_SORT },
    limit,
    cursor,
    credential,
    lanes: (filters) => [
      {
        name: listing.resource,
        open: () => inkitSource({ env: c.env, cache: c.get("cache") }, listing, filters, credential),
      },
    ],
    // Creation-time sorts get tributary's total order; other sort keys change under a walk, so the
    // upstream's order is served as it is.
    order: (filters) => creationOrder[String(filters.sort)] ?? null,
  });
}

export const listRuns: RouteHandler<ListRunsRoute, AppEnv> = async (c) => {
  const { body, headers } = await listInkit(c, "inkit.runs", inkitRuns, c.req.valid("query"));
  return listResponse(c, { body, headers });
};

export const listWorkflowBatches: RouteHandler<ListWorkflowBatchesRoute, AppEnv> = async (c) => {
  const { body, headers } = await listInkit(c, "inkit.workflow-batches", inkitWorkflowBatches, c.req.valid("query"));
  return listResponse(c, { body, headers });
};

export const listBatches: RouteHandler<ListBatchesRoute, AppEnv> = async (c) => {
  const { body, headers } = await listInkit(c, "inkit.batches", inkitDocumentBatches, c.req.valid("query"));
  return listResponse(c, { body, headers });
};

export const getBatch: RouteHandler<GetBatchRoute, AppEnv> = async (c) => {
  const { batch_id } = c.req.valid("param");
  return c.json(
    await inkitDocumentBatch({ env: c.env, cache: c.get("cache") }, batch_id, upstreamCredential(c, "inkit")),
    200,
  );
};
