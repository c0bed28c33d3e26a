import { createRoute, z } from "@hono/zod-openapi";
import {
  CreateEventSubscriptionSchema,
  EventSubscriptionSchema,
  UpdateEventSubscriptionSchema,
} from "../../schemas/event-subscription";
import {
  cacheRequestHeaderShape,
  cursorPagination,
  listOf,
  listQueryShape,
  notModifiedResponse,
} from "../../schemas/page";
import { authErrorResponses, problemResponseFor, storageErrorResponses } from "../../schemas/problem";
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

const tags = ["Events"];

const params = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,64}$/, "Expected a subscription id such as sub_01JD5Q0Z8K3M4N5P6Q7R8S9T0V.")
    .openapi({ param: { name: "id", in: "path" }, example: "sub_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
});

const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } }, required: true });
const ok = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

const notFound = { 404: problemResponseFor("No subscription with this id belongs to your API key (`not-found`).") };
const storage = storageErrorResponses("Or `service-unavailable`: the deployment has no `API_KEYS` and fails closed.");
const invalid = {
  400: problemResponseFor("Invalid input (`validation-error`): every offending field is named in `errors`."),
};

export const create = createRoute({
  method: "post",
  path: "/event-subscriptions",
  operationId: "createEventSubscription",
  tags,
  summary: "Create a poll-only subscription",
  description:
    "Subscribes your API key to events from the given sources without a webhook URL: they are recorded exactly as for a webhook endpoint (same event types, sources and defaults), and you read them with `GET /v1/event-stream`. Nothing is delivered.",
  request: { body: json(CreateEventSubscriptionSchema), headers: idempotencyKeyHeaders },
  responses: {
    201: {
      ...ok("The subscription.", EventSubscriptionSchema),
      headers: {
        Location: { description: "The new subscription's URL.", schema: { type: "string" } },
        ...replayHeadersDoc,
      },
    },
    ...authErrorResponses,
    ...invalid,
    ...idempotencyErrorResponses,
    ...storage,
  },
});

export const list = createRoute({
  method: "get",
  path: "/event-subscriptions",
  operationId: "listEventSubscriptions",
  ...cursorPagination,
  tags,
  summary: "List poll-only subscriptions",
  description: "Your API key's subscriptions, newest first, cursor-paged like every list.",
  request: { query: z.strictObject({ ...listQueryShape }), headers: conditional },
  responses: {
    ...listOf(EventSubscriptionSchema, "EventSubscriptionList", "A page of subscriptions."),
    304: notModifiedResponse,
    ...authErrorResponses,
    ...storage,
  },
});

export const get = createRoute({
  method: "get",
  path: "/event-subscriptions/{id}",
  operationId: "getEventSubscription",
  tags,
  summary: "Get a poll-only subscription",
  request: { params, headers: conditional },
  responses: {
    200: { ...ok("The subscription.", EventSubscriptionSchema), headers: etagHeaderDoc },
    304: notModifiedResponse,
    ...authErrorResponses,
    ...storage,
    ...notFound,
  },
});

export const update = createRoute({
  method: "patch",
  path: "/event-subscriptions/{id}",
  operationId: "updateEventSubscription",
  tags,
  summary: "Update a poll-only subscription",
  description:
    "Changes the given fields only. With `If-Match` (the `ETag` of a `GET` or of the last `PATCH` answer), the change applies only to that state: a concurrent edit is never overwritten.",
  request: { params, body: json(UpdateEventSubscriptionSchema), headers: ifMatchHeaders },
  responses: {
    200: { ...ok("The updated subscription.", EventSubscriptionSchema), headers: etagHeaderDoc },
    ...authErrorResponses,
    ...invalid,
    ...notFound,
    ...preconditionErrorResponses,
    ...storage,
  },
});

export const remove = createRoute({
  method: "delete",
  path: "/event-subscriptions/{id}",
  operationId: "deleteEventSubscription",
  tags,
  summary: "Delete a poll-only subscription",
  description:
    "Stops recording events for it; the events already recorded stay readable until retention. With `If-Match`, only if the subscription is still in that state.",
  request: { params, headers: ifMatchHeaders },
  responses: {
    204: { description: "Deleted." },
    ...authErrorResponses,
    ...notFound,
    ...preconditionErrorResponses,
    ...storage,
  },
});

export type CreateRoute = typeof create;
export type ListRoute = typeof list;
export type GetRoute = typeof get;
export type UpdateRoute = typeof update;
export type RemoveRoute = typeof remove;
