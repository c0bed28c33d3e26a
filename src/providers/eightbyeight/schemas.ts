import { z } from "@hono/zod-openapi";
import { UpstreamTimestampSchema } from "../../shared/time";

// Objects are loose everywhere: 8x8 adding a field must not break us. Documented fields keep strict types.

/** `data` of a workflow instance: the workflow context. Only the trigger fields are typed; the rest is kept as is. */
const EightByEightContextSchema = z.looseObject({
  accountId: z.string().min(1),
  // Documented as required, but a missing trigger time should not make a whole page unreadable.
  triggeredAt: UpstreamTimestampSchema.nullish(),
  subAccountId: z.string().nullish(),
});

/** An item of `GET /api/v1/accounts/:accountId/definitions/:definitionId/workflows` (a workflow instance). */
export const EightByEightInstanceSchema = z.looseObject({
  workflowId: z.string().min(1),
  data: EightByEightContextSchema,
  definitionId: z.string().min(1),
  version: z.number().int().min(1),
  // Any string: a status 8x8 adds later maps to `unknown` instead of failing the page.
  status: z.string(),
  startedAt: UpstreamTimestampSchema,
  completedAt: UpstreamTimestampSchema.nullable(),
});

/** The list response: a bare array, newest first, with no total. */
export const EightByEightListSchema = z.array(EightByEightInstanceSchema);

/** The error body of every 8x8 error response. */
export const EightByEightErrorSchema = z.looseObject({
  code: z.number().int(),
  message: z.string(),
  errorId: z.string(),
  timestamp: z.string(),
});

export type EightByEightInstance = z.infer<typeof EightByEightInstanceSchema>;
export type EightByEightError = z.infer<typeof EightByEightErrorSchema>;
