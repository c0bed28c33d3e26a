import { createRoute, z } from "@hono/zod-openapi";
import { eightByEightCredentialHeaderShape } from "../../schemas/credentials";
import { connectionShape, eightByEightFilterShape } from "../../schemas/filters";
import {
  cacheRequestHeaderShape,
  cursorPagination,
  listErrorResponses,
  listOf,
  listQueryShape,
} from "../../schemas/page";
import { pathParam } from "../../schemas/params";
import { problemResponseFor } from "../../schemas/problem";
import { NormalizedEightByEightRunSchema } from "../../schemas/run";

export const listRuns = createRoute({
  method: "get",
  path: "/8x8/accounts/{account_id}/definitions/{definition_id}/runs",
  operationId: "listEightByEightRuns",
  ...cursorPagination,
  tags: ["8x8"],
  summary: "List 8x8 workflow runs of a definition",
  description:
    "8x8 Automation's workflow instances of one definition, normalized and cursor-paged, newest first: `created_at` (8x8 `startedAt`) descending, then `id` descending, whatever order 8x8 gives tied start times. Without `version`, a walk stays on the definition version its first page listed, even when 8x8 publishes a new one meanwhile. 8x8 has no total, so `page.total` is null.",
  request: {
    params: z.object({
      account_id: pathParam("account_id", /^[A-Za-z0-9._-]{1,128}$/, "Expected an 8x8 account id.", "acme-ops"),
      definition_id: z
        .uuid("Expected a workflow definition id (a UUID).")
        .openapi({ param: { name: "definition_id", in: "path" }, example: "5870442f-3ddd-4657-b74c-6e17308f5230" }),
    }),
    query: z.strictObject({ ...listQueryShape, ...eightByEightFilterShape, ...connectionShape }),
    headers: z.object({
      ...cacheRequestHeaderShape,
      ...eightByEightCredentialHeaderShape,
    }),
  },
  responses: {
    ...listOf(NormalizedEightByEightRunSchema, "EightByEightRunList", "A page of runs."),
    ...listErrorResponses,
    404: problemResponseFor("8x8 has no such definition in this account (`not-found`, 8x8 code 1300)."),
  },
});

export type ListRunsRoute = typeof listRuns;
