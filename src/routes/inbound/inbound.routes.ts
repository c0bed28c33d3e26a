import { createRoute, z } from "@hono/zod-openapi";
import { problemResponseFor, storageErrorResponses } from "../../schemas/problem";
import { jsonBody, jsonResponse } from "../resource.routes";
import { eightByEightBearer, inboundBodyLimit, inkitSignature } from "./inbound.auth";

const tags = ["Inbound"];

const RecheckSchema = z
  .object({
    accepted: z.literal(true),
    sources: z.array(
      z.object({
        source: z.string().openapi({ example: "inkit:runs" }),
        outcome: z
          .enum(["baseline", "checked", "partial", "busy", "conflict", "paused", "error", "not_watched"])
          .openapi({
            description:
              "`checked`: re-checked now. `baseline`: first sight, recorded. `partial`: the upstream failed midway; what was read is recorded and the next check continues. `busy`: a check of the source is running now; it or the next one sees the change. `conflict`: a concurrent check committed first. `paused`: read through a connection that is `invalid` or deleted, so not read. `error`: the upstream failed (the cron catches up). `not_watched`: cache dropped, no endpoint watches it.",
          }),
        events: z.number().int().openapi({ description: "Events the re-check recorded.", example: 1 }),
      }),
    ),
  })
  .openapi("InboundResult", { description: "What the push invalidated and re-checked." });

const responses = (auth: string) => ({
  202: jsonResponse("Verified and processed.", RecheckSchema),
  400: problemResponseFor("The body is not the expected JSON (`validation-error`)."),
  401: problemResponseFor(`${auth} Nothing was processed (\`unauthorized\`).`),
  413: problemResponseFor("The body is larger than 64 KiB (`payload-too-large`)."),
  ...storageErrorResponses("Or `service-unavailable`: the inbound secret is not configured on this deployment."),
});

export const inkit = createRoute({
  method: "post",
  path: "/inbound/inkit",
  operationId: "receiveInkitWebhook",
  tags,
  security: [],
  summary: "Receive an Inkit webhook",
  description:
    "Point an Inkit webhook here. Not authenticated with an API key: `Inkit-Signature` must be the hex HMAC-SHA256 of the raw body keyed with `INKIT_WEBHOOK_SECRET`. The cached Inkit listings the resource may concern are invalidated and the watched ones re-checked at once, so events go out without waiting for the next poll. Inkit signs no timestamp, so a replayed push is possible; it only causes a harmless re-check.",
  middleware: [inboundBodyLimit, inkitSignature] as const,
  request: {
    headers: z.object({
      "inkit-signature": z.string().openapi({
        param: { name: "inkit-signature", in: "header" },
        description: "Hex HMAC-SHA256 of the raw body, keyed with the Inkit webhook secret.",
        example: "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592",
      }),
    }),
    body: jsonBody(
      z
        .looseObject({
          event_type: z.string().min(1).max(200).openapi({ example: "render.completed" }),
          resource_id: z.string().min(1).max(200).openapi({ example: "rend_2DhtpDQ5ErIaNJQRtCpKfN" }),
        })
        .openapi("InkitWebhook"),
    ),
  },
  responses: responses("`Inkit-Signature` is missing or wrong."),
});

export const eightByEight = createRoute({
  method: "post",
  path: "/inbound/8x8",
  operationId: "receiveEightByEightWebhook",
  tags,
  security: [{ inboundBearer: [] }],
  summary: "Receive an 8x8 workflow notification",
  description:
    "Call this from an 8x8 workflow's `HttpRequest` step with `Authorization: Bearer <EIGHTBYEIGHT_INBOUND_SECRET>` (not an API key). The definition's cached listings are invalidated and its watched sources re-checked at once.",
  middleware: [inboundBodyLimit, eightByEightBearer] as const,
  request: {
    body: jsonBody(
      z
        .looseObject({
          workflowId: z.string().min(1).max(64).openapi({ example: "60dbe307fe55d99fc083db61" }),
          definitionId: z.uuid().openapi({ example: "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14" }),
          status: z.string().min(1).max(64).openapi({ example: "Complete" }),
          accountId: z
            .string()
            .regex(/^[A-Za-z0-9._-]{1,128}$/)
            .optional()
            .openapi({ description: "Optional: narrows the re-check to this account.", example: "acme-ops" }),
        })
        .openapi("EightByEightWebhook"),
    ),
  },
  responses: responses("The bearer secret is missing or wrong."),
});

export type InkitRoute = typeof inkit;
export type EightByEightRoute = typeof eightByEight;
