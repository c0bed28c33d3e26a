import { createRoute } from "@hono/zod-openapi";
import { CreateFeedSchema, FeedSchema } from "../../schemas/feed";
import { MAX_INLINE_SOURCES, MAX_SAVED_FEED_SOURCES } from "../../schemas/sources";
import { idempotencyKeyHeaders, ifMatchHeaders } from "../../schemas/writes";
import {
  createdResponse,
  createErrorResponses,
  deleteResponses,
  idParams,
  jsonBody,
  notFoundResponse,
  ownedGetRoute,
  ownedListRoute,
  taggedResponse,
} from "../resource.routes";

const tags = ["Runs"];
const params = idParams("a feed", "feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V");
const notFound = notFoundResponse("feed");

export const create = createRoute({
  method: "post",
  path: "/feeds",
  operationId: "createFeed",
  tags,
  summary: "Save a feed: a set of sources to walk by id",
  description: `Saves a set of merged-feed sources under an id, so a walk of \`GET /v1/runs\` names them with one \`feed={id}\` parameter instead of one \`source=\` each (100 sources would make a 6 KB URL). The sources are validated and canonicalised as \`source=\` is; repeats are dropped. A feed is immutable, so its walks never change under their cursors: to change the set, save another and delete this one. A feed takes up to ${MAX_SAVED_FEED_SOURCES} sources; \`source=\` takes at most ${MAX_INLINE_SOURCES}.`,
  request: { body: jsonBody(CreateFeedSchema), headers: idempotencyKeyHeaders },
  responses: {
    201: createdResponse("The saved feed.", FeedSchema, "feed"),
    ...createErrorResponses,
  },
});

export const list = ownedListRoute({
  path: "/feeds",
  operationId: "listFeeds",
  tags,
  summary: "List saved feeds",
  plural: "saved feeds",
  item: FeedSchema,
  name: "FeedList",
  page: "A page of saved feeds.",
});

export const get = ownedGetRoute({
  path: "/feeds/{id}",
  operationId: "getFeed",
  tags,
  summary: "Get a saved feed",
  params,
  ok: taggedResponse("The feed.", FeedSchema),
  notFound,
});

export const remove = createRoute({
  method: "delete",
  path: "/feeds/{id}",
  operationId: "deleteFeed",
  tags,
  summary: "Delete a saved feed",
  description:
    "Deletes the feed. Walks over it end: their next page is a 404 `not-found`. With `If-Match` (the `ETag` of a `GET`), only if the feed is still there: feeds never change, so any tag it ever had matches until it is gone.",
  request: { params, headers: ifMatchHeaders },
  responses: deleteResponses(notFound),
});

export type CreateRoute = typeof create;
export type ListRoute = typeof list;
export type GetRoute = typeof get;
export type RemoveRoute = typeof remove;
