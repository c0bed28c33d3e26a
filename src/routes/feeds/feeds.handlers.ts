import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createFeed, feedTag, toFeed } from "../../feeds/feeds";
import { deleteFeed, type FeedRow, findFeed } from "../../feeds/store";
import type { AppEnv } from "../../http/app-env";
import { tenantOf } from "../../http/auth";
import { answerInWrite } from "../../http/idempotency";
import { listResponse } from "../../http/list-response";
import { serveListing } from "../../http/listing";
import { type Guarded, guardedWrite } from "../../http/preconditions";
import { canonicalFeedSources, MAX_SAVED_FEED_SOURCES } from "../../schemas/sources";
import { ProblemError } from "../../shared/problem";
import { d1Listing } from "../../storage/d1-listing";
import type * as R from "./feeds.routes";

async function owned(c: Context<AppEnv>, id: string): Promise<FeedRow> {
  const row = await findFeed(c.env.DB, tenantOf(c), id);
  if (!row) throw new ProblemError("not-found", { detail: `No feed ${id}.` });
  return row;
}

/** The caller's feed `id`, for a delete under `If-Match`. */
const feed = (c: Context<AppEnv>, id: string): Guarded<FeedRow> => ({
  what: `feed ${id}`,
  read: () => owned(c, id),
  tag: feedTag,
});

export const create: RouteHandler<R.CreateRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const reply = answerInWrite(c, (row: FeedRow) => c.json(toFeed(row), 201, { Location: `/v1/feeds/${row.id}` }));
  const fields = {
    sources: canonicalFeedSources(body.sources, "body", MAX_SAVED_FEED_SOURCES),
    description: body.description ?? null,
  };
  await createFeed(c.env.DB, tenantOf(c), fields, reply.keep);
  return reply.answer();
};

export const list: RouteHandler<R.ListRoute, AppEnv> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const { body, headers } = await serveListing(c, {
    route: "feeds",
    sent: {},
    defaults: {},
    limit,
    cursor,
    ...d1Listing("feeds", () => ({
      db: c.env.DB,
      table: "feeds",
      where: ["tenant = ?"],
      params: [tenantOf(c)],
      map: toFeed,
    })),
  });
  return listResponse(c, { body, headers });
};

export const get: RouteHandler<R.GetRoute, AppEnv> = async (c) => {
  return c.json(toFeed(await owned(c, c.req.valid("param").id)), 200);
};

export const remove: RouteHandler<R.RemoveRoute, AppEnv> = async (c) => {
  await guardedWrite(c, feed(c, c.req.valid("param").id), async (row) =>
    (await deleteFeed(c.env.DB, row.tenant, row.id)) ? row : null,
  );
  return c.body(null, 204);
};
