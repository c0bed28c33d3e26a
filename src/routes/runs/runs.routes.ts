import { createRoute, z } from "@hono/zod-openapi";
import { eightByEightCredentialHeaderShape, inkitCredentialHeaderShape } from "../../schemas/credentials";
import { timeFilter } from "../../schemas/filters";
import {
  cacheRequestHeaderShape,
  cursorPagination,
  listErrorResponses,
  listOf,
  listQueryShape,
  PageSchema,
} from "../../schemas/page";
import { queryParam } from "../../schemas/params";
import { problemResponseFor } from "../../schemas/problem";
import { RUN_STATUSES, RunSchema } from "../../schemas/run";
import { FEED_SOURCE_PATTERN, MAX_INLINE_SOURCES, MAX_SAVED_FEED_SOURCES } from "../../schemas/sources";

const sourceSpec = z
  .string()
  .regex(
    new RegExp(FEED_SOURCE_PATTERN),
    "Expected `inkit` or `8x8:{account_id}/{definition_id}`, then `@{connection_id}` or not.",
  );

const FEED_DOC = [
  "One newest-first feed of workflow runs across Inkit and any number of 8x8 definitions, behind one cursor.",
  "Order (tributary's own, never the upstreams' order among tied timestamps): `created_at` descending, then `provider`",
  "ascending (`8x8` before `inkit`), then `id` descending; ids compare as plain strings. It is the same for one source.",
  "Sources read aligned blocks that later pages share through the cache; an exhausted source costs nothing.",
  `Name the sources with \`source=\` (up to ${MAX_INLINE_SOURCES}), or save them once as a feed (\`POST /v1/feeds\`) and`,
  "send `feed={id}`: the URL and the cursor then carry the feed's id and a digest of its sources, not the sources.",
  "A first page reads every source: one of more sources than `FEED_FIRST_PAGE_SOURCES` (20 by default, for the Workers",
  "free plan's 10 ms of CPU per request) is a 400 `too-many-sources`, and one of more than `SUBREQUEST_LIMIT` a 400",
  "`subrequest-limit`, both before any upstream call. Later pages read only the sources on them.",
  "\n\n**Exactly-once walks.** A forward walk started at time T returns every run that existed at T exactly once,",
  "in that order, whatever order the upstreams give tied runs, even while they insert new runs at their heads between",
  "your requests (tested with up to 10 × `limit` per page), and backward with `prev_cursor`. A cursor's position is a",
  "keyset (`created_at`, `provider`, `id`); upstream offsets are only hints. Runs created after T appear at most once.",
  "8x8 sources are pinned to the walk's head with `startTimeTo` and stay on the definition version they listed first.",
  "Limits: deletions upstream and changes to a run's `created_at` are not covered; a tie group larger than any one",
  "upstream response, served in an order that changes per request window, may lose an item (Inkit has no time filter).",
].join(" ");

const PartialErrorSchema = z
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
        .union([
          sourceSpec,
          z
            .array(sourceSpec)
            .max(
              MAX_INLINE_SOURCES,
              `At most ${MAX_INLINE_SOURCES} sources inline. Name more (up to ${MAX_SAVED_FEED_SOURCES}) once as a saved feed: POST /v1/feeds, then GET /v1/runs?feed={id}.`,
            ),
        ])
        .optional()
        .openapi({
          ...queryParam("source"),
          description: `Repeatable, up to ${MAX_INLINE_SOURCES}. \`inkit\`, or \`8x8:{account_id}/{definition_id}\`; read through one of your connections with \`@{connection_id}\` after it (\`inkit@conn_…\`). Default: the \`DEFAULT_SOURCES\` setting. For many sources, save them once as a feed and send \`feed\` instead.`,
          example: "8x8:acme-ops/3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14",
        }),
      feed: z
        .string()
        .regex(/^[A-Za-z0-9_]{1,64}$/, "Expected a feed id such as feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V.")
        .optional()
        .openapi({
          ...queryParam("feed"),
          description:
            "A saved feed's id (`POST /v1/feeds`), instead of `source`: the walk's sources are the feed's. Its cursors carry the feed's id and a digest of its sources, so later pages may omit it. Not with `source`. An unknown feed, or another API key's, is a 404; so is the next page of a walk whose feed was deleted.",
          example: "feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V",
        }),
      status: z
        .enum(RUN_STATUSES)
        .optional()
        .openapi({
          ...queryParam("status"),
          description:
            "Only runs with this normalized status. 8x8 applies it itself where it can; otherwise the facade does, and pages stay full.",
          example: "completed",
        }),
      created_after: timeFilter("created_after", "Only runs created strictly after this time.", "2026-10-01T00:00:00Z"),
      created_before: timeFilter(
        "created_before",
        "Only runs created strictly before this time.",
        "2026-11-01T00:00:00Z",
      ),
      partial: z
        .enum(["true", "false"])
        .optional()
        .openapi({
          ...queryParam("partial"),
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
    404: problemResponseFor(
      "`not-found`: no saved feed with the `feed` id belongs to your API key, or the feed a cursor's walk reads was deleted since (restarting will not help: save the sources again).",
    ),
    503: {
      ...listErrorResponses[503],
      description: `${listErrorResponses[503].description} With \`feed\` (or a feed walk's cursor) only: \`deployment-incomplete\`, the D1 database that holds saved feeds is missing or not migrated; \`detail\` names the step.`,
    },
  },
});

export type ListRunsRoute = typeof listRuns;
