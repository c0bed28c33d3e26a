import { createRoute, z } from "@hono/zod-openapi";
import { BatchSchema } from "../../schemas/batch";
import { inkitCredentialHeaderShape } from "../../schemas/credentials";
import { connectionShape, dataIdShape, inkitFilterShape } from "../../schemas/filters";
import {
  cacheHeadersDoc,
  cacheRequestHeaderShape,
  cursorPagination,
  listErrorResponses,
  listOf,
  listQueryShape,
  notModifiedResponse,
} from "../../schemas/page";
import { pathParam } from "../../schemas/params";
import { authErrorResponses, problemResponseFor } from "../../schemas/problem";
import { NormalizedInkitRunSchema } from "../../schemas/run";

const headers = z.object({ ...inkitCredentialHeaderShape, ...cacheRequestHeaderShape });

export const listRuns = createRoute({
  method: "get",
  path: "/inkit/runs",
  operationId: "listInkitRuns",
  ...cursorPagination,
  tags: ["Inkit"],
  summary: "List Inkit workflow runs",
  description:
    "Inkit `GET /v1/invoke`, normalized and cursor-paged. Newest first by creation time unless `sort` says otherwise; creation-time sorts are in tributary's order (`created_at`, then `id`, both in the sort's direction), whatever order Inkit gives tied timestamps.",
  request: {
    query: z.strictObject({ ...listQueryShape, ...inkitFilterShape, ...dataIdShape, ...connectionShape }),
    headers,
  },
  responses: { ...listOf(NormalizedInkitRunSchema, "InkitRunList", "A page of runs."), ...listErrorResponses },
});

/** Inkit's two batch listings: the same query and page of batches (`kind` tells them apart), over two endpoints. */
const batchList = <P extends string>(path: P, operationId: string, summary: string, description: string) =>
  createRoute({
    method: "get",
    path,
    operationId,
    ...cursorPagination,
    tags: ["Inkit"],
    summary,
    description,
    request: { query: z.strictObject({ ...listQueryShape, ...inkitFilterShape, ...connectionShape }), headers },
    responses: { ...listOf(BatchSchema, "BatchList", "A page of batches."), ...listErrorResponses },
  });

export const listWorkflowBatches = batchList(
  "/inkit/workflow-batches",
  "listInkitWorkflowBatches",
  "List Inkit workflow batches",
  "Inkit `GET /v1/invoke/batch`, normalized and cursor-paged (`kind: workflow_batch`).",
);

export const listBatches = batchList(
  "/inkit/batches",
  "listInkitBatches",
  "List Inkit document batches",
  "Inkit `GET /v1/batch`, normalized and cursor-paged (`kind: document_batch`).",
);

export const getBatch = createRoute({
  method: "get",
  path: "/inkit/batches/{batch_id}",
  operationId: "getInkitBatch",
  tags: ["Inkit"],
  summary: "Get an Inkit document batch",
  description: "Inkit `GET /v1/batch/{batchId}`, normalized.",
  request: {
    params: z.object({
      batch_id: pathParam(
        "batch_id",
        /^[A-Za-z0-9_-]{1,64}$/,
        "Expected a batch id such as rb_6WtDgF7RGqdS5Uzea9neZJ.",
        "rb_6WtDgF7RGqdS5Uzea9neZJ",
      ),
    }),
    query: z.strictObject({ ...connectionShape }),
    headers,
  },
  responses: {
    200: {
      description: "The batch.",
      headers: cacheHeadersDoc,
      content: { "application/json": { schema: BatchSchema } },
    },
    304: notModifiedResponse,
    ...authErrorResponses,
    404: problemResponseFor("Inkit has no batch with this id (`not-found`)."),
    502: listErrorResponses[502],
    504: listErrorResponses[504],
  },
});

export type ListRunsRoute = typeof listRuns;
export type ListWorkflowBatchesRoute = typeof listWorkflowBatches;
export type ListBatchesRoute = typeof listBatches;
export type GetBatchRoute = typeof getBatch;
