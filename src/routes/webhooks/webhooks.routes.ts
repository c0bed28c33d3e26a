import { createRoute } from "@hono/zod-openapi";
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
import { idempotencyErrorResponses, idempotencyKeyHeaders, ifMatchHeaders } from "../../schemas/writes";
import {
  createdResponse,
  deleteResponses,
  guardedWriteErrorResponses,
  idParams,
  jsonBody,
  notFoundResponse,
  ownedGetRoute,
  ownedListRoute,
  replayableResponse,
  storedErrorResponses,
  taggedResponse,
} from "../resource.routes";

const tags = ["Webhooks"];
const params = idParams("an endpoint", "we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V");
const notFound = notFoundResponse("endpoint");
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
  request: { body: jsonBody(CreateWebhookEndpointSchema), headers: idempotencyKeyHeaders },
  responses: {
    201: createdResponse("The endpoint, with its secret.", WebhookEndpointWithSecretSchema, "endpoint"),
    ...authErrorResponses,
    400: problemResponseFor(
      "Invalid input (`validation-error`): every offending field is named in `errors`, including a refused `url` and a malformed `idempotency-key`.",
    ),
    ...idempotencyErrorResponses,
    ...unavailable,
  },
});

export const list = ownedListRoute({
  path: "/webhook-endpoints",
  operationId: "listWebhookEndpoints",
  tags,
  summary: "List webhook endpoints",
  plural: "endpoints",
  item: WebhookEndpointSchema,
  name: "WebhookEndpointList",
  page: "A page of endpoints.",
});

export const get = ownedGetRoute({
  path: "/webhook-endpoints/{id}",
  operationId: "getWebhookEndpoint",
  tags,
  summary: "Get a webhook endpoint",
  params,
  ok: taggedResponse("The endpoint.", WebhookEndpointSchema),
  notFound,
});

export const update = createRoute({
  method: "patch",
  path: "/webhook-endpoints/{id}",
  operationId: "updateWebhookEndpoint",
  tags,
  summary: "Update a webhook endpoint",
  description:
    "Changes the given fields only. `enabled: true` re-enables an endpoint disabled by hand or by a 410; `POST …/replay` then re-sends what it missed. With `If-Match` (the `ETag` of a `GET` or of the last `PATCH` answer), the change applies only to that state: a concurrent edit is never overwritten.",
  request: { params, body: jsonBody(UpdateWebhookEndpointSchema), headers: ifMatchHeaders },
  responses: {
    200: taggedResponse("The updated endpoint.", WebhookEndpointSchema),
    ...guardedWriteErrorResponses(notFound),
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
  responses: deleteResponses(notFound),
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
    200: replayableResponse("The new secret.", RotatedSecretSchema),
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
    202: replayableResponse("The ping is queued.", TestEventResultSchema),
    ...storedErrorResponses,
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
  request: { params, body: jsonBody(ReplaySchema), headers: idempotencyKeyHeaders },
  responses: {
    202: replayableResponse("The replayed events are queued.", ReplayResultSchema),
    ...storedErrorResponses,
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
