import type { z } from "@hono/zod-openapi";
import { capMemory } from "../../cache/caps";
import { canonicalRequest, type UpstreamDeps } from "../../cache/upstream-deps";
import { configOf } from "../../config";
import { staged } from "../../observability/stages";
import type { Filters } from "../../paging/listing";
import type { OffsetReader } from "../../paging/offset-reader";
import { pageModelReader } from "../../paging/reader-models";
import type { Batch } from "../../schemas/batch";
import type { InkitRunNormalized } from "../../schemas/run";
import { type InkitListingName, resourceName } from "../../schemas/sources";
import type { Credential } from "../../upstream/credential";
import { inkitClient } from "./client";
import { normalizeInkitBatch, normalizeInkitRun } from "./normalize";
import { InkitBatchSchema, InkitRunSchema, inkitListSchema } from "./schemas";

/** One of Inkit's list endpoints: where it is and how its items become ours. */
export interface InkitListing<I extends z.ZodType, T extends { created_at: string }> {
  /** Cache resource name, the unit of invalidation. */
  resource: string;
  path: string;
  item: I;
  normalize: (item: z.infer<I>) => T;
}

export const inkitRuns: InkitListing<typeof InkitRunSchema, InkitRunNormalized> = {
  resource: resourceName({ provider: "inkit", listing: "runs" }),
  path: "/v1/invoke",
  item: InkitRunSchema,
  normalize: normalizeInkitRun,
};

export const inkitWorkflowBatches: InkitListing<typeof InkitBatchSchema, Batch> = {
  resource: resourceName({ provider: "inkit", listing: "workflow-batches" }),
  path: "/v1/invoke/batch",
  item: InkitBatchSchema,
  normalize: (b) => normalizeInkitBatch(b, "workflow_batch"),
};

export const inkitDocumentBatches: InkitListing<typeof InkitBatchSchema, Batch> = {
  resource: resourceName({ provider: "inkit", listing: "batches" }),
  path: "/v1/batch",
  item: InkitBatchSchema,
  normalize: (b) => normalizeInkitBatch(b, "document_batch"),
};

/** Our filter names are Inkit's own; list values travel comma-separated. */
function upstreamQuery(filters: Filters): Record<string, string> {
  return Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
}

/** Inkit's listings by their name in a source key (see the catalog). */
export const inkitListings = {
  runs: inkitRuns,
  "workflow-batches": inkitWorkflowBatches,
  batches: inkitDocumentBatches,
} satisfies Record<InkitListingName, InkitListing<z.ZodType, { created_at: string }>>;

/** A page-model OffsetReader over one Inkit listing with its filters bound. */
export function inkitReader<I extends z.ZodType, T extends { created_at: string }>(
  { env, cache }: UpstreamDeps,
  listing: InkitListing<I, T>,
  filters: Filters,
  credential: Credential,
): OffsetReader<T> {
  const config = configOf(env);
  const client = inkitClient(env.INKIT_BASE_URL, credential, config.upstreamTimeoutMs);
  const scope = { provider: "inkit" as const, credential, resource: listing.resource };
  const schema = inkitListSchema(listing.item);
  const query = upstreamQuery(filters);
  return pageModelReader(
    ({ page, pageSize }, fresh, keep) => {
      const pageQuery = { ...query, page: String(page), page_size: String(pageSize) };
      return cache.read(
        scope,
        canonicalRequest(listing.path, pageQuery),
        "list",
        async () => {
          const body = await client.get(listing.path, pageQuery, schema);
          return {
            items: staged("parse and normalize", () => (body.items as z.infer<I>[]).map(listing.normalize)),
            total: body.metadata.pagination.total_count,
            pageSize: body.metadata.pagination.page_size,
          };
        },
        fresh,
        keep,
      );
    },
    config.inkitMaxPageSize,
    capMemory(env, cache.waitUntil, scope),
  );
}

/** Fetches one batch by id from a batch listing's item route (`/v1/batch/{id}`, `/v1/invoke/batch/{id}`). */
export async function inkitBatch(
  { env, cache }: UpstreamDeps,
  listing: InkitListing<typeof InkitBatchSchema, Batch>,
  id: string,
  credential: Credential,
): Promise<Batch> {
  const client = inkitClient(env.INKIT_BASE_URL, credential, configOf(env).upstreamTimeoutMs);
  const path = `${listing.path}/${encodeURIComponent(id)}`;
  return cache.read(
    { provider: "inkit", credential, resource: listing.resource },
    canonicalRequest(path, {}),
    "item",
    async () => listing.normalize(await client.get(path, {}, InkitBatchSchema)),
  );
}

/** Fetches one document batch by id. */
export const inkitDocumentBatch = (deps: UpstreamDeps, id: string, credential: Credential) =>
  inkitBatch(deps, inkitDocumentBatches, id, credential);

/** How many run ids one `data_id` lookup names: about 3 KB of URL, well inside what proxies accept. */
export const RUN_IDS_PER_LOOKUP = 100;

/**
 * The runs with these ids, by Inkit's `data_id` filter: one lookup (and as many pages as a silent cap needs) per
 * `RUN_IDS_PER_LOOKUP` ids, whatever their age. An id missing from the answer names no run Inkit lists.
 */
export async function inkitRunsById(deps: UpstreamDeps, ids: string[], credential: Credential) {
  const found: InkitRunNormalized[] = [];
  for (let i = 0; i < ids.length; i += RUN_IDS_PER_LOOKUP) {
    const chunk = ids.slice(i, i + RUN_IDS_PER_LOOKUP);
    const reader = inkitReader(deps, inkitRuns, { data_id: chunk.join(","), sort: "-created_at" }, credential);
    found.push(...(await reader.read(0, chunk.length, 0)).items);
  }
  return found;
}
