import { z } from "@hono/zod-openapi";
import { problemResponseFor } from "./problem";

// The headers and answers that make writes safe: Idempotency-Key on every POST (draft-ietf-httpapi-idempotency-key-
// header), If-Match on PATCH and DELETE (RFC 9110 §13.1.1).

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

const ENTITY_TAG = String.raw`(?:W/)?"[\x21\x23-\x7E\x80-\xFF]*"`;

/** Request headers of a conditional PATCH or DELETE: an optional `If-Match`. */
export const ifMatchHeaders = z.object({
  "if-match": z
    .string()
    .max(1024)
    .regex(
      new RegExp(`^(?:\\*|${ENTITY_TAG}(?:[ \\t]*,[ \\t]*${ENTITY_TAG})*)$`),
      'Must be `*` or one or more entity tags as `ETag` sends them, e.g. "3f1c0e…".',
    )
    .optional()
    .openapi({
      param: { name: "if-match", in: "header" },
      description:
        "The `ETag` of the state your change is based on (from a `GET` or a `PATCH` answer). The write happens only if the resource is still in that state; otherwise a 412 names its current tag, and nothing changes. Compared strongly: a weak tag (`W/…`) never matches. `*` matches any current state. Without it, the write happens whatever the current state.",
      example: '"3f1c0e9a7b2d4c6e8f0a1b2c3d4e5f60"',
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

/** Response headers of an answer that describes the resource's current state (a GET, or the state after a write). */
export const etagHeaderDoc = {
  ETag: {
    description:
      "The strong entity tag of the resource's state as this answer shows it: send it as `If-Match` with the next write.",
    schema: { type: "string" as const },
    example: '"3f1c0e9a7b2d4c6e8f0a1b2c3d4e5f60"',
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

/** The error `If-Match` adds to a PATCH or DELETE; spread into `responses`. */
export const preconditionErrorResponses = {
  412: {
    ...problemResponseFor(
      "`precondition-failed`: `If-Match` does not match the current state, which changed since you read it; nothing was changed. `etag` (and the `ETag` header) is the current tag: GET the resource, reapply your change, and send that tag.",
    ),
    headers: {
      ETag: {
        description: "The resource's current entity tag.",
        schema: { type: "string" as const },
        example: '"3f1c0e9a7b2d4c6e8f0a1b2c3d4e5f60"',
      },
    },
  },
};
