import { z } from "@hono/zod-openapi";
import { CreateWebhookEndpointSchema, UpdateWebhookEndpointSchema, WebhookEndpointSchema } from "./webhook-endpoint";

// A subscription is a webhook endpoint without a URL: the same fields, validation and defaults, taken from there.
const recorded = "The event types recorded for your API key; null means every type (including types added later).";

export const EventSubscriptionSchema = z
  .object({
    id: z.string().openapi({ example: "sub_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
    ...WebhookEndpointSchema.pick({ description: true, sources: true, created_at: true, updated_at: true }).shape,
    event_types: WebhookEndpointSchema.shape.event_types.openapi({ description: recorded }),
  })
  .openapi("EventSubscription", {
    description:
      "A poll-only subscription: change detection watches its sources and records events for your API key, as for a webhook endpoint, but nothing is delivered. Read them with `GET /v1/event-stream` or `GET /v1/events`.",
  });

export type EventSubscription = z.infer<typeof EventSubscriptionSchema>;

export const CreateEventSubscriptionSchema = CreateWebhookEndpointSchema.omit({ url: true })
  .extend({
    event_types: CreateWebhookEndpointSchema.shape.event_types.openapi({
      description: "Event types to record. Default: every type.",
    }),
  })
  .openapi("CreateEventSubscription");

export const UpdateEventSubscriptionSchema = UpdateWebhookEndpointSchema.omit({ url: true, enabled: true }).openapi(
  "UpdateEventSubscription",
);
