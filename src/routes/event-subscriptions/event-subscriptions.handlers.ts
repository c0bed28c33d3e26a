import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/app-env";
import { tenantOf } from "../../http/auth";
import { answerInWrite } from "../../http/idempotency";
import { guardedWrite } from "../../http/preconditions";
import { deleteSubscription, findSubscription, type SubscriptionRow } from "../../stream/subscription-store";
import { createSubscription, subscriptionTag, toSubscription, updateSubscription } from "../../stream/subscriptions";
import { guarded, guardedDelete, owned, tenantPage } from "../resource.handlers";
import { watchOf, watchPatchOf } from "../watch";
import type * as R from "./event-subscriptions.routes";

const subscriptions = { noun: "event subscription", find: findSubscription, tag: subscriptionTag };

export const create: RouteHandler<R.CreateRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const reply = answerInWrite(c, (row: SubscriptionRow) =>
    c.json(toSubscription(row), 201, { Location: `/v1/event-subscriptions/${row.id}` }),
  );
  await createSubscription(c.env.DB, tenantOf(c), await watchOf(c, body), reply.keep);
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
  const patch = await watchPatchOf(c, c.req.valid("json"));
  const next = await guardedWrite(c, guarded(c, subscriptions, c.req.valid("param").id), (row, isGuarded) =>
    updateSubscription(c.env.DB, row, patch, isGuarded),
  );
  return c.json(toSubscription(next), 200, { ETag: await subscriptionTag(next) });
};

export const remove: RouteHandler<R.RemoveRoute, AppEnv> = (c) =>
  guardedDelete(c, subscriptions, c.req.valid("param").id, (row, isGuarded) =>
    deleteSubscription(c.env.DB, row.id, isGuarded ? row : undefined),
  );
