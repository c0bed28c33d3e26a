import type { RouteHandler, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { readListing, type Walkable } from "../../paging/listing";
import { upstreamCredential } from "../../providers/credentials";
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

/** One page of an Inkit listing; every Inkit list route differs only in which listing it reads. */
function listInkit<I extends z.ZodType, T extends Walkable>(
  c: Context<AppEnv>,
  route: string,
  listing: InkitListing<I, T>,
  { limit, cursor, ...query }: { limit?: number; cursor?: string },
) {
  const credential = upstreamCredential(c, "inkit");
  return readListing(c, {
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
    // Only a creation-time walk can resynchronise on its anchor: other sort keys change under it.
    anchored: (filters) => filters.sort === DEFAULT_INKIT_SORT,
  });
}

export const listRuns: RouteHandler<ListRunsRoute, AppEnv> = async (c) => {
  const { body, headers } = await listInkit(c, "inkit.runs", inkitRuns, c.req.valid("query"));
  return c.json(body, 200, headers);
};

export const listWorkflowBatches: RouteHandler<ListWorkflowBatchesRoute, AppEnv> = async (c) => {
  const { body, headers } = await listInkit(c, "inkit.workflow-batches", inkitWorkflowBatches, c.req.valid("query"));
  return c.json(body, 200, headers);
};

export const listBatches: RouteHandler<ListBatchesRoute, AppEnv> = async (c) => {
  const { body, headers } = await listInkit(c, "inkit.batches", inkitDocumentBatches, c.req.valid("query"));
  return c.json(body, 200, headers);
};

export const getBatch: RouteHandler<GetBatchRoute, AppEnv> = async (c) => {
  const { batch_id } = c.req.valid("param");
  return c.json(
    await inkitDocumentBatch({ env: c.env, cache: c.get("cache") }, batch_id, upstreamCredential(c, "inkit")),
    200,
  );
};
