import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteEndpoint, type EndpointRow, findEndpoint } from "../../delivery/endpoint-store";
import {
  createEndpoint,
  endpointTag,
  rotateSecret as rotate,
  toEndpoint,
  updateEndpoint,
} from "../../delivery/endpoints";
import { replayMissed, sendPing } from "../../delivery/replay";
import { checkWebhookUrl } from "../../delivery/url-safety";
import type { AppEnv } from "../../http/app-env";
import { tenantOf } from "../../http/auth";
import { answerInWrite } from "../../http/idempotency";
import { guardedWrite } from "../../http/preconditions";
import { DEFAULT_MAX_IN_FLIGHT } from "../../schemas/webhook-endpoint";
import { ProblemError } from "../../shared/problem";
import { isoMicros, toRfc3339 } from "../../shared/time";
import { guarded, guardedDelete, owned, tenantPage } from "../resource.handlers";
import { watchOf, watchPatchOf } from "../watch";
import type * as R from "./webhooks.routes";

function masterKey(c: Context<AppEnv>): string {
  const key = c.get("config").webhookEncryptionKey;
  if (!key) {
    throw new ProblemError("service-unavailable", {
      detail: "Webhooks are not configured on this deployment (WEBHOOK_ENCRYPTION_KEY is missing or too short).",
    });
  }
  return key;
}

/** The URL as stored, or a 400 naming `url`. */
function safeUrl(c: Context<AppEnv>, url: string): string {
  const verdict = checkWebhookUrl(url, c.get("config").allowInsecureWebhookUrls);
  if (verdict.ok) return verdict.url;
  throw new ProblemError("validation-error", {
    detail: `body parameter url: ${verdict.reason}`,
    errors: [{ in: "body", name: "url", message: verdict.reason }],
  });
}

const endpoints = { noun: "webhook endpoint", find: findEndpoint, tag: endpointTag };

function requireEnabled(row: EndpointRow): void {
  if (row.enabled !== 1) {
    throw new ProblemError("validation-error", {
      detail: `Webhook endpoint ${row.id} is disabled (${row.disabled_reason}); PATCH it with {"enabled": true} first.`,
      errors: [{ in: "path", name: "id", message: "The endpoint is disabled." }],
    });
  }
}

export const create: RouteHandler<R.CreateRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const master = masterKey(c);
  const reply = answerInWrite(c, ({ row, secret }: { row: EndpointRow; secret: string }) =>
    c.json({ ...toEndpoint(row), secret }, 201, { Location: `/v1/webhook-endpoints/${row.id}` }),
  );
  const input = {
    tenant: tenantOf(c),
    url: safeUrl(c, body.url),
    ...(await watchOf(c, body)),
    rateLimit: body.rate_limit ?? null,
    maxInFlight: body.max_in_flight ?? DEFAULT_MAX_IN_FLIGHT,
  };
  await createEndpoint(c.env.DB, master, input, reply.keep);
  return reply.answer();
};

export const list: RouteHandler<R.ListRoute, AppEnv> = (c) =>
  tenantPage(
    c,
    { route: "webhooks.endpoints", ...c.req.valid("query") },
    { lane: "webhook-endpoints", table: "webhook_endpoints", map: toEndpoint },
  );

export const get: RouteHandler<R.GetRoute, AppEnv> = async (c) => {
  return c.json(toEndpoint(await owned(c, endpoints, c.req.valid("param").id)), 200);
};

export const update: RouteHandler<R.UpdateRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const patch = {
    url: body.url === undefined ? undefined : safeUrl(c, body.url),
    ...(await watchPatchOf(c, body)),
    enabled: body.enabled,
    rateLimit: body.rate_limit,
    maxInFlight: body.max_in_flight,
  };
  const next = await guardedWrite(c, guarded(c, endpoints, c.req.valid("param").id), (row, isGuarded) =>
    updateEndpoint(c.env.DB, row, patch, isGuarded),
  );
  return c.json(toEndpoint(next), 200, { ETag: await endpointTag(next) });
};

export const remove: RouteHandler<R.RemoveRoute, AppEnv> = (c) =>
  guardedDelete(c, endpoints, c.req.valid("param").id, (row, isGuarded) =>
    deleteEndpoint(c.env.DB, row.id, isoMicros(Date.now()), isGuarded ? row : undefined),
  );

export const rotateSecret: RouteHandler<R.RotateSecretRoute, AppEnv> = async (c) => {
  const row = await owned(c, endpoints, c.req.valid("param").id);
  const reply = answerInWrite(c, (r: { secret: string; previousSecretExpiresAt: string }) =>
    c.json({ id: row.id, secret: r.secret, previous_secret_expires_at: r.previousSecretExpiresAt }, 200),
  );
  await rotate(c.env.DB, masterKey(c), row.id, reply.keep);
  return reply.answer();
};

export const sendTest: RouteHandler<R.SendTestRoute, AppEnv> = async (c) => {
  const row = await owned(c, endpoints, c.req.valid("param").id);
  requireEnabled(row);
  const reply = answerInWrite(c, (eventId: string) => c.json({ event_id: eventId }, 202));
  await sendPing(c.env, row, reply.keep);
  return reply.answer();
};

export const replay: RouteHandler<R.ReplayRoute, AppEnv> = async (c) => {
  const row = await owned(c, endpoints, c.req.valid("param").id);
  requireEnabled(row);
  const { since, until } = c.req.valid("json");
  if (until !== undefined && toRfc3339(until) < toRfc3339(since)) {
    throw new ProblemError("validation-error", {
      detail: "body parameter until: must not be before since.",
      errors: [{ in: "body", name: "until", message: "Must not be before since." }],
    });
  }
  const reply = answerInWrite(c, (ids: string[]) => c.json({ replayed: ids.length, event_ids: ids }, 202));
  await replayMissed(c.env, row, { since, until }, reply.keep);
  return reply.answer();
};
