import { z } from "@hono/zod-openapi";
import { problemResponseFor } from "./problem";

// The headers and answers that make writes safe: Idempotency-Key on every POST (draft-ietf-httpapi-idempotency-key-
// header).

const IDEMPOTENCY_KEY_DOC =
  "Makes this POST safe to retry. Send a unique value (a UUID) per operation you mean, and the same value on every retry of it. Within 24 hours a repeat gets the first answer again (same status and body, secrets included, with `Idempotent-Replayed: true`) and does not run the operation twice. The key belongs to your API key and this operation. The same key with another body or path is a 422; while the first request is still running, a 409. Only answers of operations that took effect (2xx) are kept: after an error, a retry with the key runs again. 1 to 255 printable ASCII characters.";

/** Request headers of every POST: an optional `Idempotency-Key`. */
export const idempotencyKeyHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1, "Must not be empty.")
    .max(255, "Must be at most 255 characters.")
    .regex(/^[\x20-\x7E]*$/, "Must be printable ASCII (U+0020 to U+007E).")
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      description: IDEMPOTENCY_KEY_DOC,
      example: "8e03978e-40d5-43e8-bc93-6894a57f9324",
    }),
});

/** Response headers of an answer a keyed POST may replay. */
export const replayHeadersDoc = {
  "Idempotent-Replayed": {
    description:
      "`true` when this is the kept answer of an earlier request with the same `Idempotency-Key`: the operation did not run again. Absent otherwise.",
    schema: { type: "string" as const, enum: ["true"] },
  },
};

/** The errors `Idempotency-Key` adds to a POST; spread into `responses`. */
export const idempotencyErrorResponses = {
  409: {
    ...problemResponseFor(
      "`idempotency-key-in-use`: the first request with this `Idempotency-Key` is still running. Retry with the same key after `Retry-After` seconds: you then get its answer.",
    ),
    headers: {
      "Retry-After": {
        description: "Seconds to wait before retrying.",
        schema: { type: "integer" as const, minimum: 1 },
        example: 1,
      },
    },
  },
  422: problemResponseFor(
    "`idempotency-key-reused`: your API key used this `Idempotency-Key` for another request to this operation (another body or path) within the last 24 hours. Send a new key for a new request.",
  ),
};
