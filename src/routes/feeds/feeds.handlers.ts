import type { RouteHandler } from "@hono/zod-openapi";
import { createFeed, feedTag, toFeed } from "../../feeds/feeds";
import { deleteFeed, type FeedRow, findFeed } from "../../feeds/store";
import type { AppEnv } from "../../http/app-env";
import { tenantOf } from "../../http/auth";
import { answerInWrite } from "../../http/idempotency";
import { canonicalFeedSources, MAX_SAVED_FEED_SOURCES } from "../../schemas/sources";
import { checkSourceConnections } from "../read-credentials";
import { guardedDelete, owned, tenantPage } from "../resource.handlers";
import type * as R from "./feeds.routes";

const feeds = { noun: "feed", find: findFeed, tag: feedTag };

export const create: RouteHandler<R.CreateRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const reply = answerInWrite(c, (row: FeedRow) => c.json(toFeed(row), 201, { Location: `/v1/feeds/${row.id}` }));
  const fields = {
    sources: canonicalFeedSources(body.sources, "body", MAX_SAVED_FEED_SOURCES),
    description: body.description ?? null,
  };
  await checkSourceConnections(c, fields.sources, { in: "body", name: "sources" });
  await createFeed(c.env.DB, tenantOf(c), fields, reply.keep);
  return reply.answer();
};

export const list: RouteHandler<R.ListRoute, AppEnv> = (c) =>
  tenantPage(c, { route: "feeds", ...c.req.valid("query") }, { lane: "feeds", table: "feeds", map: toFeed });

export const get: RouteHandler<R.GetRoute, AppEnv> = async (c) => {
  return c.json(toFeed(await owned(c, feeds, c.req.valid("param").id)), 200);
};

export const remove: RouteHandler<R.RemoveRoute, AppEnv> = (c) =>
  guardedDelete(c, feeds, c.req.valid("param").id, (row) => deleteFeed(c.env.DB, row.tenant, row.id));
