import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../http/app-env";
import { tenantOf } from "../../http/auth";
import { answerInWrite } from "../../http/idempotency";
import { listResponse } from "../../http/list-response";
import { serveListing } from "../../http/listing";
import { type Guarded, guardedWrite } from "../../http/preconditions";
import { defaultWatchedSources } from "../../providers/default-sources";
import { ProblemError } from "../../shared/problem";
import { d1Listing } from "../../storage/d1-listing";
import { deleteSubscription, findSubscription, type SubscriptionRow } from "../../stream/subscription-store";
import { createSubscription, subscriptionTag, toSubscription, updateSubscription } from "../../stream/subscriptions";
import { canonicalSources } from "../filters";
import type * as R from "./event-subscriptions.routes";

async function owned(c: Context<AppEnv>, id: string): Promise<SubscriptionRow> {
  const row = await findSubscription(c.env.DB, tenantOf(c), id);
  if (!row) throw new ProblemError("not-found", { detail: `No event subscription ${id}.` });
  return row;
}

/** The caller's subscription `id`, for a write under `If-Match`. */
const subscription = (c: Context<AppEnv>, id: string): Guarded<SubscriptionRow> => ({
  what: `event subscription ${id}`,
  read: () => owned(c, id),
  tag: subscriptionTag,
});

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

export const list: RouteHandler<R.ListRoute, AppEnv> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const { body, headers } = await serveListing(c, {
    route: "event-subscriptions",
    sent: {},
    defaults: {},
    limit,
    cursor,
    ...d1Listing("event-subscriptions", () => ({
      db: c.env.DB,
      table: "event_subscriptions",
      where: ["tenant = ?"],
      params: [tenantOf(c)],
      map: toSubscription,
    })),
  });
  return listResponse(c, { body, headers });
};

export const get: RouteHandler<R.GetRoute, AppEnv> = async (c) => {
  return c.json(toSubscription(await owned(c, c.req.valid("param").id)), 200);
};

export const update: RouteHandler<R.UpdateRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const patch = {
    description: body.description,
    eventTypes: body.event_types,
    sources: body.sources === undefined ? undefined : canonicalSources(body.sources),
  };
  const next = await guardedWrite(c, subscription(c, c.req.valid("param").id), (row, guarded) =>
    updateSubscription(c.env.DB, row, patch, guarded),
  );
  return c.json(toSubscription(next), 200, { ETag: await subscriptionTag(next) });
};

export const remove: RouteHandler<R.RemoveRoute, AppEnv> = async (c) => {
  await guardedWrite(c, subscription(c, c.req.valid("param").id), async (row, guarded) =>
    (await deleteSubscription(c.env.DB, row.id, guarded ? row : undefined)) ? row : null,
  );
  return c.body(null, 204);
};
