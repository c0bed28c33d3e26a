import { createRoute, z } from "@hono/zod-openapi";
import { DeliveryAttemptSchema, EventSchema } from "../../schemas/events";
import { eventFilterShape } from "../../schemas/filters";
import { cursorPagination, listQueryShape } from "../../schemas/page";
import {
  conditionalHeaders,
  getResponses,
  idParams,
  jsonResponse,
  listQuery,
  listResponses,
  notFoundResponse,
} from "../resource.routes";

const tags = ["Events"];
const params = idParams("an event", "evt_01JD5Q0Z8K3M4N5P6Q7R8S9T0V");
const notFound = notFoundResponse("event");

export const list = createRoute({
  method: "get",
  path: "/events",
  operationId: "listEvents",
  ...cursorPagination,
  tags,
  summary: "List events",
  description:
    "The event log of your API key: every event recorded for your endpoints' subscriptions (delivered or not) and your pings, newest first, cursor-paged like every list.",
  request: { query: z.strictObject({ ...listQueryShape, ...eventFilterShape }), headers: conditionalHeaders },
  responses: listResponses(EventSchema, "EventList", "A page of events."),
});

export const get = createRoute({
  method: "get",
  path: "/events/{id}",
  operationId: "getEvent",
  tags,
  summary: "Get an event",
  request: { params, headers: conditionalHeaders },
  responses: getResponses(jsonResponse("The event.", EventSchema), notFound),
});

export const attempts = createRoute({
  method: "get",
  path: "/events/{id}/attempts",
  operationId: "listEventAttempts",
  ...cursorPagination,
  tags,
  summary: "List an event's delivery attempts",
  description: "Every HTTP attempt to deliver this event, to any of your endpoints, newest first.",
  request: { params, query: listQuery, headers: conditionalHeaders },
  responses: {
    ...listResponses(DeliveryAttemptSchema, "DeliveryAttemptList", "A page of attempts."),
    ...notFound,
  },
});

export type ListRoute = typeof list;
export type GetRoute = typeof get;
export type AttemptsRoute = typeof attempts;
