import { createRoute } from "@hono/zod-openapi";
import {
  CreateEventSubscriptionSchema,
  EventSubscriptionSchema,
  UpdateEventSubscriptionSchema,
} from "../../schemas/event-subscription";
import { idempotencyKeyHeaders, ifMatchHeaders } from "../../schemas/writes";
import {
  createdResponse,
  createErrorResponses,
  deleteResponses,
  guardedWriteErrorResponses,
  idParams,
  invalidBodyResponse,
  jsonBody,
  notFoundResponse,
  ownedGetRoute,
  ownedListRoute,
  taggedResponse,
} from "../resource.routes";

const tags = ["Events"];
const params = idParams("a subscription", "sub_01JD5Q0Z8K3M4N5P6Q7R8S9T0V");
const notFound = notFoundResponse("subscription");

export const create = createRoute({
  method: "post",
  path: "/event-subscriptions",
  operationId: "createEventSubscription",
  tags,
  summary: "Create a poll-only subscription",
  description:
    "Subscribes your API key to events from the given sources without a webhook URL: they are recorded exactly as for a webhook endpoint (same event types, sources and defaults), and you read them with `GET /v1/event-stream`. Nothing is delivered.",
  request: { body: jsonBody(CreateEventSubscriptionSchema), headers: idempotencyKeyHeaders },
  responses: {
    201: createdResponse("The subscription.", EventSubscriptionSchema, "subscription"),
    ...createErrorResponses,
  },
});

export const list = ownedListRoute({
  path: "/event-subscriptions",
  operationId: "listEventSubscriptions",
  tags,
  summary: "List poll-only subscriptions",
  plural: "subscriptions",
  item: EventSubscriptionSchema,
  name: "EventSubscriptionList",
  page: "A page of subscriptions.",
});

export const get = ownedGetRoute({
  path: "/event-subscriptions/{id}",
  operationId: "getEventSubscription",
  tags,
  summary: "Get a poll-only subscription",
  params,
  ok: taggedResponse("The subscription.", EventSubscriptionSchema),
  notFound,
});

export const update = createRoute({
  method: "patch",
  path: "/event-subscriptions/{id}",
  operationId: "updateEventSubscription",
  tags,
  summary: "Update a poll-only subscription",
  description:
    "Changes the given fields only. With `If-Match` (the `ETag` of a `GET` or of the last `PATCH` answer), the change applies only to that state: a concurrent edit is never overwritten.",
  request: { params, body: jsonBody(UpdateEventSubscriptionSchema), headers: ifMatchHeaders },
  responses: {
    200: taggedResponse("The updated subscription.", EventSubscriptionSchema),
    ...guardedWriteErrorResponses(notFound),
    ...invalidBodyResponse,
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
  responses: deleteResponses(notFound),
});

export type CreateRoute = typeof create;
export type ListRoute = typeof list;
export type GetRoute = typeof get;
export type UpdateRoute = typeof update;
export type RemoveRoute = typeof remove;
