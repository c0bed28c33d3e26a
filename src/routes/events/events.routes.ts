import { createRoute, z } from "@hono/zod-openapi";
import { DeliveryAttemptSchema, EVENT_TYPES, EventSchema } from "../../schemas/events";
import { cursorPagination, listQueryShape } from "../../schemas/page";
import { queryParam } from "../../schemas/params";
import { instantSchema } from "../../schemas/webhook-endpoint";
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

const instant = (name: string, description: string) =>
  instantSchema()
    .optional()
    .openapi({ ...queryParam(name), format: "date-time", description, example: "2026-11-01T00:00:00Z" });

export const eventFilterShape = {
  type: z
    .enum(EVENT_TYPES)
    .optional()
    .openapi({ ...queryParam("type"), description: "Only events of this type.", example: "run.completed" }),
  source: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({
      ...queryParam("source"),
      description: "Only events seen in this source (a source key).",
      example: "inkit:runs",
    }),
  created_from: instant("created_from", "Only events created at or after this instant (RFC 3339)."),
  created_to: instant("created_to", "Only events created at or before this instant (RFC 3339)."),
};

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
