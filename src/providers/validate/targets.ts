import type { z } from "@hono/zod-openapi";
import { EightByEightListSchema } from "../eightbyeight/schemas";
import { InkitBatchSchema, InkitRunSchema, inkitListSchema } from "../inkit/schemas";

/**
 * Every upstream body schema the clients validate with, by the name its ahead-of-time validator is exported under
 * in `upstream.gen.js` (`npm run validators`). The zod schema stays the one source of truth.
 */
export const upstreamBodySchemas = {
  inkitRunList: inkitListSchema(InkitRunSchema),
  inkitBatchList: inkitListSchema(InkitBatchSchema),
  inkitBatch: InkitBatchSchema,
  eightByEightList: EightByEightListSchema,
} satisfies Record<string, z.ZodType>;

export type UpstreamBodyName = keyof typeof upstreamBodySchemas;
