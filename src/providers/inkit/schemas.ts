import { z } from "@hono/zod-openapi";
import { UpstreamTimestampSchema } from "../../shared/time";

// Objects are loose everywhere: Inkit adding a field must not break us. Documented fields keep strict types.

const Id = z.string().min(1);
const Count = z.number().int().nonnegative();

// A destination's piece id and status may be null or absent while it is still queued.
const Text = z.string().nullish();
const piece = <K extends string>(key: K) =>
  z.looseObject({ [key]: Text, status: Text } as { [k in K | "status"]: typeof Text }).nullish();

/** Per-type run destinations. A type Inkit adds later is kept, as long as it is an object; null means absent. */
const InkitRunDestinationsSchema = z
  .object({
    amazon_s3: piece("amazon_s3_piece_id"),
    box: piece("box_piece_id"),
    docusign: piece("docusign_piece_id"),
    dropbox: piece("dropbox_piece_id"),
    google_drive: piece("google_drive_piece_id"),
    inkit_storage: z.looseObject({ document_id: Text, name: Text, status: Text }).nullish(),
    magic_link: piece("magic_link_piece_id"),
    salesforce: piece("salesforce_piece_id"),
    sepire: piece("mail_piece_id"),
  })
  .catchall(z.looseObject({ status: Text }).nullable());

/** An item of `GET /v1/invoke` (a workflow run). */
export const InkitRunSchema = z.looseObject({
  created_at: UpstreamTimestampSchema,
  description: z.string().nullable(),
  // Nullable although the example never shows it: a run with no destinations yet has no destination status.
  destination_status: z.string().nullable(),
  destinations: InkitRunDestinationsSchema,
  flow_created_at: UpstreamTimestampSchema.nullable(),
  flow_id: z.string().nullable(),
  flow_name: z.string().nullable(),
  flows_batch_id: z.string().nullable(),
  id: Id,
  merge_parameters: z.record(z.string(), z.unknown()),
  name: z.string().nullable(),
  status: z.string(),
  template_id: z.string().nullable(),
  template_version: z.number().int().nullable(),
});

/** Generation counts of one destination within a batch. */
const InkitBatchDestinationSchema = z.looseObject({
  count: Count,
  completed: Count,
  failed: Count,
  in_progress: Count,
  status: z.string().nullish(),
});

/** An item of `GET /v1/invoke/batch` or `GET /v1/batch`, or the body of `GET /v1/batch/{batchId}`. */
export const InkitBatchSchema = z.looseObject({
  created_at: UpstreamTimestampSchema,
  destinations: z.record(z.string(), InkitBatchDestinationSchema),
  id: Id,
  name: z.string().nullable(),
  status: z.string(),
  total: Count,
});

/** `metadata.pagination` of an Inkit list. `prev_page` is unreliable (108 on page 1 of 108): do not use it. */
const InkitPaginationSchema = z.looseObject({
  current_page: z.number().int().positive(),
  next_page: z.number().int().positive().nullable(),
  page_count: Count,
  page_size: z.number().int().positive(),
  prev_page: z.number().int().positive().nullable(),
  total_count: Count,
});

const InkitSortSchema = z.looseObject({ key: z.string(), order: z.number().int() });

const InkitListMetadataSchema = z.looseObject({ pagination: InkitPaginationSchema, sort: InkitSortSchema });

const listSchemas = new WeakMap<z.ZodType, z.ZodType>();
const listOf = <T extends z.ZodType>(item: T) =>
  z.looseObject({ items: z.array(item), metadata: InkitListMetadataSchema });

/**
 * The envelope of an Inkit list endpoint around `item`; one instance per item schema, so the ahead-of-time
 * validator generated from it (`src/providers/validate`) is found by identity.
 *
 * @example inkitListSchema(InkitRunSchema).parse(await res.json())
 */
export const inkitListSchema = <T extends z.ZodType>(item: T): ReturnType<typeof listOf<T>> => {
  const known = listSchemas.get(item) as ReturnType<typeof listOf<T>> | undefined;
  if (known) return known;
  const schema = listOf(item);
  listSchemas.set(item, schema);
  return schema;
};

export type InkitRun = z.infer<typeof InkitRunSchema>;
export type InkitBatch = z.infer<typeof InkitBatchSchema>;
export type InkitListMetadata = z.infer<typeof InkitListMetadataSchema>;
export type InkitList<T> = { items: T[]; metadata: InkitListMetadata };
