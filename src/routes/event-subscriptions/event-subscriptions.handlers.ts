import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/app-env";
import { tenantOf } from "../../http/auth";
import { answerInWrite } from "../../http/idempotency";
import { guardedWrite } from "../../http/preconditions";
import { defaultWatchedSources } from "../../providers/default-sources";
import { deleteSubscription, findSubscription, type SubscriptionRow } from "../../stream/subscription-store";
import { createSubscription, subscriptionTag, toSubscription, updateSubscription } from "../../stream/subscriptions";
import { canonicalSources } from "../filters";
import { guarded, guardedDelete, owned, tenantPage } from "../resource.handlers";
import type * as R from "./event-subscriptions.routes";

const subscriptions = { noun: "event subscription", find: findSubscription, tag: subscriptionTag };

export const create: RouteHandler<R.CreateRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const reply = answerInWrite(c, (row: SubscriptionRow) =>
    c.json(toSubscription(row), 201, { Location: `/v1/event-subscriptions/${row.id}` }),
  );
  const fields = {
    description: body.description ?? null,
    eventTypes: body.event_types ?? null,
    sources: body.sources ? canonicalSources(body.sources) : defaultWatchedSources(c.env),
  };
  await createSubscription(c.env.DB, tenantOf(c), fields, reply.keep);
  return reply.answer();
};

export const list: RouteHandler<R.ListRoute, AppEnv> = (c) =>
  tenantPage(
    c,
    { route: "event-subscriptions", ...c.req.valid("query") },
    { lane: "event-subscriptions", table: "event_subscriptions", map: toSubscription },
  );

export const get: RouteHandler<R.GetRoute, AppEnv> = async (c) => {
  return c.json(toSubscription(await owned(c, subscriptions, c.req.valid("param").id)), 200);
};

export const update: RouteHandler<R.UpdateRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const patch = {
    description: body.description,
    eventTypes: body.event_types,
    sources: body.sources === undefined ? undefined : canonicalSources(body.sources),
  };
  const next = await guardedWrite(c, guarded(c, subscriptions, c.req.valid("param").id), (row, isGuarded) =>
    updateSubscription(c.env.DB, row, patch, isGuarded),
  );
  return c.json(toSubscription(next), 200, { ETag: await subscriptionTag(next) });
};

export const remove: RouteHandler<R.RemoveRoute, AppEnv> = (c) =>
  guardedDelete(c, subscriptions, c.req.valid("param").id, (row, isGuarded) =>
    deleteSubscription(c.env.DB, row.id, isGuarded ? row : undefined),
  );
