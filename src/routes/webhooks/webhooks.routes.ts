import { createRoute, z } from "@hono/zod-openapi";
import {
  cacheRequestHeaderShape,
  cursorPagination,
  listOf,
  listQueryShape,
  notModifiedResponse,
} from "../../schemas/page";
import { authErrorResponses, problemResponseFor, storageErrorResponses } from "../../schemas/problem";
import {
  CreateWebhookEndpointSchema,
  ReplayResultSchema,
  ReplaySchema,
  RotatedSecretSchema,
  TestEventResultSchema,
  UpdateWebhookEndpointSchema,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
} from "../../schemas/webhook-endpoint";
import {
  etagHeaderDoc,
  idempotencyErrorResponses,
  idempotencyKeyHeaders,
  ifMatchHeaders,
  preconditionErrorResponses,
  replayHeadersDoc,
} from "../../schemas/writes";

/** GETs answer 304 to a matching `If-None-Match` (every /v1 GET carries an ETag). */
const conditional = z.object({ "if-none-match": cacheRequestHeaderShape["if-none-match"] });

const tags = ["Webhooks"];

const params = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,64}$/, "Expected an endpoint id such as we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V.")
    .openapi({ param: { name: "id", in: "path" }, example: "we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
});

const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } }, required: true });
const ok = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});
/** The answer of a POST, which a repeat with the same `Idempotency-Key` replays. */
const replayable = <T extends z.ZodType>(description: string, schema: T) => ({
  ...ok(description, schema),
  headers: replayHeadersDoc,
});

const notFound = { 404: problemResponseFor("No endpoint with this id belongs to your API key (`not-found`).") };
const noKeys = "Or `service-unavailable`: the deployment has no `API_KEYS` and fails closed.";
const storage = storageErrorResponses(noKeys);
const unavailable = storageErrorResponses(
  "Or `service-unavailable`: the deployment has no `WEBHOOK_ENCRYPTION_KEY` (or no `API_KEYS`), so it cannot store or use signing secrets.",
);

export const create = createRoute({
  method: "post",
  path: "/webhook-endpoints",
  operationId: "createWebhookEndpoint",
  tags,
  summary: "Create a webhook endpoint",
  description:
    "Registers a URL to receive signed events from the given sources. The answer carries the signing secret: it is shown only here and on rotation.",
  request: { body: json(CreateWebhookEndpointSchema), headers: idempotencyKeyHeaders },
  responses: {
    201: {
      ...ok("The endpoint, with its secret.", WebhookEndpointWithSecretSchema),
      headers: {
        Location: { description: "The new endpoint's URL.", schema: { type: "string" } },
        ...replayHeadersDoc,
      },
    },
    ...authErrorResponses,
    400: problemResponseFor(
      "Invalid input (`validation-error`): every offending field is named in `errors`, including a refused `url` and a malformed `idempotency-key`.",
    ),
    ...idempotencyErrorResponses,
    ...unavailable,
  },
});

export const list = createRoute({
  method: "get",
  path: "/webhook-endpoints",
  operationId: "listWebhookEndpoints",
  ...cursorPagination,
  tags,
  summary: "List webhook endpoints",
  description: "Your API key's endpoints, newest first, cursor-paged like every list.",
  request: { query: z.strictObject({ ...listQueryShape }), headers: conditional },
  responses: {
    ...listOf(WebhookEndpointSchema, "WebhookEndpointList", "A page of endpoints."),
    304: notModifiedResponse,
    ...authErrorResponses,
    ...storage,
  },
});

export const get = createRoute({
  method: "get",
  path: "/webhook-endpoints/{id}",
  operationId: "getWebhookEndpoint",
  tags,
  summary: "Get a webhook endpoint",
  request: { params, headers: conditional },
  responses: {
    200: { ...ok("The endpoint.", WebhookEndpointSchema), headers: etagHeaderDoc },
    304: notModifiedResponse,
    ...authErrorResponses,
    ...storage,
    ...notFound,
  },
});

export const update = createRoute({
  method: "patch",
  path: "/webhook-endpoints/{id}",
  operationId: "updateWebhookEndpoint",
  tags,
  summary: "Update a webhook endpoint",
  description:
    "Changes the given fields only. `enabled: true` re-enables an endpoint disabled by hand or by a 410; `POST …/replay` then re-sends what it missed. With `If-Match` (the `ETag` of a `GET` or of the last `PATCH` answer), the change applies only to that state: a concurrent edit is never overwritten.",
  request: { params, body: json(UpdateWebhookEndpointSchema), headers: ifMatchHeaders },
  responses: {
    200: { ...ok("The updated endpoint.", WebhookEndpointSchema), headers: etagHeaderDoc },
    ...authErrorResponses,
    ...notFound,
    ...preconditionErrorResponses,
    ...storage,
  },
});

export const remove = createRoute({
  method: "delete",
  path: "/webhook-endpoints/{id}",
  operationId: "deleteWebhookEndpoint",
  tags,
  summary: "Delete a webhook endpoint",
  description:
    "Deletes the endpoint and its secrets. Its pending deliveries are abandoned; its events stay in the log. With `If-Match`, only if the endpoint is still in that state.",
  request: { params, headers: ifMatchHeaders },
  responses: {
    204: { description: "Deleted." },
    ...authErrorResponses,
    ...notFound,
    ...preconditionErrorResponses,
    ...storage,
  },
});

export const rotateSecret = createRoute({
  method: "post",
  path: "/webhook-endpoints/{id}/rotate-secret",
  operationId: "rotateWebhookSecret",
  tags,
  summary: "Rotate an endpoint's signing secret",
  description:
    "Issues a new secret. For 24 hours deliveries carry two signatures (`v1,<new> v1,<old>`), so consumers can switch without losing events.",
  request: { params, headers: idempotencyKeyHeaders },
  responses: {
    200: replayable("The new secret.", RotatedSecretSchema),
    ...authErrorResponses,
    ...notFound,
    ...idempotencyErrorResponses,
    ...unavailable,
  },
});

export const sendTest = createRoute({
  method: "post",
  path: "/webhook-endpoints/{id}/test",
  operationId: "sendWebhookTest",
  tags,
  summary: "Send a ping event",
  description:
    "Queues a `ping` event to this endpoint, whatever its event types. Follow it with `GET /v1/events/{id}/attempts`.",
  request: { params, headers: idempotencyKeyHeaders },
  responses: {
    202: replayable("The ping is queued.", TestEventResultSchema),
    ...authErrorResponses,
    ...storage,
    400: problemResponseFor(
      "The endpoint is disabled (`validation-error`): enable it first. Or a malformed `idempotency-key`.",
    ),
    ...notFound,
    ...idempotencyErrorResponses,
  },
});

export const replay = createRoute({
  method: "post",
  path: "/webhook-endpoints/{id}/replay",
  operationId: "replayWebhookEvents",
  tags,
  summary: "Re-send missed events",
  description: `Queues again, as new deliveries with unchanged event ids (\`webhook-id\`), every event created in [since, until] that the endpoint subscribes to and has not received: failed or exhausted deliveries, deliveries waiting for a retry, and events recorded while it was disabled. At most 1000 per request (newest first).`,
  request: { params, body: json(ReplaySchema), headers: idempotencyKeyHeaders },
  responses: {
    202: replayable("The replayed events are queued.", ReplayResultSchema),
    ...authErrorResponses,
    ...storage,
    400: problemResponseFor(
      "Invalid window, or the endpoint is disabled (`validation-error`). Or a malformed `idempotency-key`.",
    ),
    ...notFound,
    ...idempotencyErrorResponses,
  },
});

export type CreateRoute = typeof create;
export type ListRoute = typeof list;
export type GetRoute = typeof get;
export type UpdateRoute = typeof update;
export type RemoveRoute = typeof remove;
export type RotateSecretRoute = typeof rotateSecret;
export type SendTestRoute = typeof sendTest;
export type ReplayRoute = typeof replay;
