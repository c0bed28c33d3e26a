import { createRoute, z } from "@hono/zod-openapi";
import { DeliveryAttemptSchema, EVENT_TYPES, EventSchema } from "../../schemas/events";
import {
  cacheRequestHeaderShape,
  cursorPagination,
  listOf,
  listQueryShape,
  notModifiedResponse,
} from "../../schemas/page";
import { authErrorResponses, problemResponseFor, storageErrorResponses } from "../../schemas/problem";
import { instantSchema } from "../../schemas/webhook-endpoint";

/** GETs answer 304 to a matching `If-None-Match` (every /v1 GET carries an ETag). */
const conditional = z.object({ "if-none-match": cacheRequestHeaderShape["if-none-match"] });

const tags = ["Events"];
const q = (name: string) => ({ param: { name, in: "query" as const } });

const params = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,64}$/, "Expected an event id such as evt_01JD5Q0Z8K3M4N5P6Q7R8S9T0V.")
    .openapi({ param: { name: "id", in: "path" }, example: "evt_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
});

const instant = (name: string, description: string) =>
  instantSchema()
    .optional()
    .openapi({ ...q(name), format: "date-time", description, example: "2026-11-01T00:00:00Z" });

export const eventFilterShape = {
  type: z
    .enum(EVENT_TYPES)
    .optional()
    .openapi({ ...q("type"), description: "Only events of this type.", example: "run.completed" }),
  source: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ ...q("source"), description: "Only events seen in this source (a source key).", example: "inkit:runs" }),
  created_from: instant("created_from", "Only events created at or after this instant (RFC 3339)."),
  created_to: instant("created_to", "Only events created at or before this instant (RFC 3339)."),
};

const notFound = { 404: problemResponseFor("No event with this id belongs to your API key (`not-found`).") };

const storage = storageErrorResponses("Or `service-unavailable`: the deployment has no `API_KEYS` and fails closed.");

export const list = createRoute({
  method: "get",
  path: "/events",
  operationId: "listEvents",
  ...cursorPagination,
  tags,
  summary: "List events",
  description:
    "The event log of your API key: every event recorded for your endpoints' subscriptions (delivered or not) and your pings, newest first, cursor-paged like every list.",
  request: { query: z.strictObject({ ...listQueryShape, ...eventFilterShape }), headers: conditional },
  responses: {
    ...listOf(EventSchema, "EventList", "A page of events."),
    304: notModifiedResponse,
    ...authErrorResponses,
    ...storage,
  },
});

export const get = createRoute({
  method: "get",
  path: "/events/{id}",
  operationId: "getEvent",
  tags,
  summary: "Get an event",
  request: { params, headers: conditional },
  responses: {
    200: { description: "The event.", content: { "application/json": { schema: EventSchema } } },
    304: notModifiedResponse,
    ...authErrorResponses,
    ...storage,
    ...notFound,
  },
});

export const attempts = createRoute({
  method: "get",
  path: "/events/{id}/attempts",
  operationId: "listEventAttempts",
  ...cursorPagination,
  tags,
  summary: "List an event's delivery attempts",
  description: "Every HTTP attempt to deliver this event, to any of your endpoints, newest first.",
  request: { params, query: z.strictObject({ ...listQueryShape }), headers: conditional },
  responses: {
    ...listOf(DeliveryAttemptSchema, "DeliveryAttemptList", "A page of attempts."),
    304: notModifiedResponse,
    ...authErrorResponses,
    ...storage,
    ...notFound,
  },
});

export type ListRoute = typeof list;
export type GetRoute = typeof get;
export type AttemptsRoute = typeof attempts;
