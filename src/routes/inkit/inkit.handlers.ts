import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../http/app-env";
import { listResponse } from "../../http/list-response";
import { serveListing } from "../../http/listing";
import type { Direction } from "../../paging/order";
import { upstreamCredential } from "../../providers/credentials";
import { inkitDocumentBatch } from "../../providers/inkit/source";
import { openReader } from "../../providers/readers";
import { DEFAULT_INKIT_SORT } from "../../schemas/filters";
import { formatSourceKey, type InkitListingName } from "../../schemas/sources";
import type { Credential } from "../../upstream/credential";
import { sentFilters } from "../filters";
import { connectionFilter, readCredentials } from "../read-credentials";
import type { GetBatchRoute, ListBatchesRoute, ListRunsRoute, ListWorkflowBatchesRoute } from "./inkit.routes";

const creationOrder: Record<string, Direction> = { [DEFAULT_INKIT_SORT]: "desc", created_at: "asc" };

/** One page of an Inkit listing (route `inkit.<listing>`); every Inkit list route differs only in which it reads. */
function listInkit<L extends InkitListingName>(
  c: Context<AppEnv>,
  listing: L,
  { limit, cursor, ...query }: { limit?: number; cursor?: string; connection?: string },
) {
  return serveListing(c, {
    route: `inkit.${listing}`,
    sent: sentFilters(query),
    defaults: { sort: DEFAULT_INKIT_SORT },
    limit,
    cursor,
    credential: upstreamCredential(c, "inkit"),
    lanes: async (filters) => {
      const { connection, where, upstream } = connectionFilter(filters, query);
      const key = { provider: "inkit", listing, ...(connection ? { connection } : {}) } as const;
      const [credential] = (await readCredentials(c, [key], where)) as [Credential];
      const deps = { env: c.env, cache: c.get("cache") };
      return [{ name: formatSourceKey(key), open: () => openReader(key, deps, { credential, filters: upstream }) }];
    },
    // Creation-time sorts get tributary's total order; other sort keys change under a walk, so the
    // upstream's order is served as it is.
    order: (filters) => creationOrder[String(filters.sort)] ?? null,
  });
}

export const listRuns: RouteHandler<ListRunsRoute, AppEnv> = async (c) => {
  const { body, headers } = await listInkit(c, "runs", c.req.valid("query"));
  return listResponse(c, { body, headers });
};

export const listWorkflowBatches: RouteHandler<ListWorkflowBatchesRoute, AppEnv> = async (c) => {
  const { body, headers } = await listInkit(c, "workflow-batches", c.req.valid("query"));
  return listResponse(c, { body, headers });
};

export const listBatches: RouteHandler<ListBatchesRoute, AppEnv> = async (c) => {
  const { body, headers } = await listInkit(c, "batches", c.req.valid("query"));
  return listResponse(c, { body, headers });
};

export const getBatch: RouteHandler<GetBatchRoute, AppEnv> = async (c) => {
  const { batch_id } = c.req.valid("param");
  const { connection } = c.req.valid("query");
  const key = { provider: "inkit", listing: "batches", ...(connection ? { connection } : {}) } as const;
  const [credential] = (await readCredentials(c, [key], { in: "query", name: "connection" })) as [Credential];
  return c.json(await inkitDocumentBatch({ env: c.env, cache: c.get("cache") }, batch_id, credential), 200);
};
