import { createRoute, z } from "@hono/zod-openapi";
import { FEED_SOURCE_PATTERN, MAX_FEED_SOURCES } from "../../providers/catalog";
import { eightByEightCredentialHeaderShape, inkitCredentialHeaderShape } from "../../schemas/credentials";
import { rfc3339 } from "../../schemas/filters";
import {
  cacheRequestHeaderShape,
  cursorPagination,
  listErrorResponses,
  listOf,
  listQueryShape,
  PageSchema,
} from "../../schemas/page";
import { RUN_STATUSES, RunSchema } from "../../schemas/run";

const q = (name: string) => ({ param: { name, in: "query" as const } });
const sourceSpec = z
  .string()
  .regex(new RegExp(FEED_SOURCE_PATTERN), "Expected `inkit` or `8x8:{account_id}/{definition_id}`.");

const FEED_DOC = [
  "One newest-first feed of workflow runs across Inkit and any number of 8x8 definitions, behind one cursor.",
  "Order: `created_at` descending, ties by `provider`, then `id` (descending).",
  "A page costs at most one upstream call per source that still has items (none when cached); an exhausted source costs nothing.",
  "\n\n**Exactly-once walks.** A forward walk started at time T returns every run that existed at T exactly once,",
  "in order, even while upstreams insert new runs at their heads between your requests (tested with up to 10 × `limit` per page).",
  "Each cursor carries, per source, an anchor (the last run you saw from it) and the upstream's total; the facade finds the anchor",
  "again after insertions, and 8x8 sources are additionally pinned with `startTimeTo` to the walk's head.",
  "Runs created after T appear at most once (a forward walk does not return them). Limits: deletions upstream and",
  "changes to a run's `created_at` are not covered; a backward walk (`prev_cursor`) re-finds its anchor the same way.",
].join(" ");

export const PartialErrorSchema = z
  .object({
    source: z.string().openapi({ example: "8x8:acme-ops/3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14" }),
    status: z.number().int().openapi({ example: 502 }),
    type: z.string().openapi({ example: "upstream-error" }),
    detail: z.string().openapi({ example: "8x8 answered with HTTP 503." }),
  })
  .openapi("FeedSourceError");

/** The feed's page: `Page`, plus the sources that failed when `partial=true`. */
const FeedPageSchema = PageSchema.extend({
  errors: z.array(PartialErrorSchema).optional().openapi({
    description: "With `partial=true`: the sources that failed for this page; they keep their place for the next one.",
  }),
});

export const listRuns = createRoute({
  method: "get",
  path: "/runs",
  operationId: "listRuns",
  ...cursorPagination,
  tags: ["Runs"],
  summary: "Merged feed of runs across providers",
  description: FEED_DOC,
  request: {
    query: z.strictObject({
      ...listQueryShape,
      source: z
        .union([sourceSpec, z.array(sourceSpec).max(MAX_FEED_SOURCES)])
        .optional()
        .openapi({
          ...q("source"),
          description:
            "Repeatable. `inkit`, or `8x8:{account_id}/{definition_id}`. Default: the `DEFAULT_SOURCES` setting.",
          example: "8x8:acme-ops/3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14",
        }),
      status: z
        .enum(RUN_STATUSES)
        .optional()
        .openapi({
          ...q("status"),
          description:
            "Only runs with this normalized status. 8x8 applies it itself where it can; otherwise the facade does, and pages stay full.",
          example: "completed",
        }),
      created_after: rfc3339.optional().openapi({
        ...q("created_after"),
        description: "Only runs created strictly after this time.",
        example: "2026-10-01T00:00:00Z",
      }),
      created_before: rfc3339.optional().openapi({
        ...q("created_before"),
        description: "Only runs created strictly before this time.",
        example: "2026-11-01T00:00:00Z",
      }),
      partial: z
        .enum(["true", "false"])
        .optional()
        .openapi({
          ...q("partial"),
          description:
            "`true`: when a source fails, serve the others and name it in `page.errors` instead of failing with 502.",
          example: "false",
        }),
    }),
    headers: z.object({
      ...cacheRequestHeaderShape,
      ...inkitCredentialHeaderShape,
      ...eightByEightCredentialHeaderShape,
    }),
  },
  responses: {
    ...listOf(RunSchema, "RunFeed", "A page of the feed.", FeedPageSchema),
    ...listErrorResponses,
  },
});

export type ListRunsRoute = typeof listRuns;
