import { z } from "@hono/zod-openapi";
import { destinationTypeDescription, type StatusTable, statusTableMarkdown, timestamp } from "./run";

export const BATCH_STATUSES = ["pending", "in_progress", "completed", "failed", "unknown"] as const;
type BatchStatus = (typeof BATCH_STATUSES)[number];

// The mapping itself: the normalizer and the OpenAPI description both read it.
export const inkitBatchStatusTable = [
  ["Pending", "pending"],
  ["Queued", "pending"],
  ["Scheduled", "pending"],
  ["In Progress", "in_progress"],
  ["Processing", "in_progress"],
  ["Running", "in_progress"],
  ["Completed", "completed"],
  ["Failed", "failed"],
  ["Error", "failed"],
] as const satisfies StatusTable<BatchStatus>;

export const BatchKindSchema = z.enum(["workflow_batch", "document_batch"]).openapi("BatchKind", {
  description:
    "`workflow_batch`: a batch of workflow invocations (Inkit `GET /v1/invoke/batch`, ids `fb_…`). `document_batch`: a batch of generated documents (Inkit `GET /v1/batch`, ids `rb_…`).",
  example: "workflow_batch",
});

const count = (description: string, example: number) =>
  z.number().int().nonnegative().openapi({ description, example });

export const BatchDestinationSchema = z
  .object({
    type: z.string().openapi({ description: destinationTypeDescription, example: "inkit_storage" }),
    count: count("Document generations for this destination.", 2),
    completed: count("Completed generations.", 2),
    failed: count("Failed generations.", 0),
    in_progress: count("Generations still in progress.", 0),
    status: z.string().nullable().openapi({
      description: "Inkit's status text for this destination, null when it sends none.",
      example: "completed",
    }),
  })
  .openapi("BatchDestination", { description: "Generation counts of one destination within a batch." });

export const BatchSchema = z
  .object({
    id: z.string().openapi({ description: "The batch id at Inkit.", example: "fb_5s6Sy8bUjdRscqwSJ2hmCc" }),
    provider: z.literal("inkit").openapi({ description: "The upstream: only Inkit has batches.", example: "inkit" }),
    kind: BatchKindSchema,
    name: z.string().nullable().openapi({ description: "The batch name, if one was given.", example: "Batch Name" }),
    status: z.enum(BATCH_STATUSES).openapi({
      example: "completed",
      description: `Normalized status, from Inkit's \`status\`:\n\n${statusTableMarkdown({ Inkit: inkitBatchStatusTable })}`,
    }),
    provider_status: z.string().openapi({ description: "Inkit's status text, verbatim.", example: "In Progress" }),
    total: count("The number of documents in the batch.", 1),
    created_at: timestamp("When the batch was created.", "2023-11-07T03:05:52.298042Z"),
    destinations: z.array(BatchDestinationSchema).openapi({
      description: "Per-destination generation counts, sorted by `type`. Empty until Inkit starts generating.",
    }),
  })
  .openapi("Batch", { description: "An Inkit workflow batch or document batch." });

export type Batch = z.infer<typeof BatchSchema>;
export type BatchKind = z.infer<typeof BatchKindSchema>;
export type BatchDestination = z.infer<typeof BatchDestinationSchema>;
