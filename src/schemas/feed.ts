import { z } from "@hono/zod-openapi";
import { timestamp } from "./run";
import { FEED_SOURCE_PATTERN, MAX_SAVED_FEED_SOURCES } from "./sources";

const source = z
  .string()
  .regex(
    new RegExp(FEED_SOURCE_PATTERN),
    "Expected `inkit` or `8x8:{account_id}/{definition_id}`, then `@{connection_id}` or not.",
  )
  .openapi({ example: "8x8:acme-ops/3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14" });

const description = z.string().max(500);

export const FeedSchema = z
  .object({
    id: z.string().openapi({ example: "feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
    description: description.nullable().openapi({ example: "Every workflow of the support organisation" }),
    sources: z.array(z.string()).openapi({
      description:
        "The feed's sources, canonical (`inkit`, `8x8:{account_id}/{definition_id}` in lower case), each once, in the order given.",
      example: ["inkit", "8x8:acme-ops/3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14"],
    }),
    created_at: timestamp("When the feed was saved.", "2026-11-01T00:00:00.000000Z"),
  })
  .openapi("Feed", {
    description: `A saved, immutable set of merged-feed sources: walk it with \`GET /v1/runs?feed={id}\` instead of repeating \`source=\` up to ${MAX_SAVED_FEED_SOURCES} times. It never changes, so a walk over it never changes under its cursor; delete it and save another to change the set.`,
  });

export type Feed = z.infer<typeof FeedSchema>;

export const CreateFeedSchema = z
  .strictObject({
    sources: z
      .array(source)
      .min(1)
      .max(MAX_SAVED_FEED_SOURCES)
      .openapi({
        description: `1 to ${MAX_SAVED_FEED_SOURCES} sources, each \`inkit\` or \`8x8:{account_id}/{definition_id}\`, as \`source=\` takes them. Repeats are dropped. A walk's first page reads every source once, so a feed of more sources than the deployment's \`FEED_FIRST_PAGE_SOURCES\` (20 by default, for the Workers free plan's 10 ms of CPU per request) or \`SUBREQUEST_LIMIT\` (50 on the free plan) answers its first page with a 400 \`too-many-sources\` or \`subrequest-limit\`; later pages read only the sources on them.`,
      }),
    description: description.optional(),
  })
  .openapi("CreateFeed");
