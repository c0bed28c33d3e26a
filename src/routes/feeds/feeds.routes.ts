import { createRoute, z } from "@hono/zod-openapi";
import { CreateFeedSchema, FeedSchema } from "../../schemas/feed";
import {
  cacheRequestHeaderShape,
  cursorPagination,
  listOf,
  listQueryShape,
  notModifiedResponse,
} from "../../schemas/page";
import { authErrorResponses, problemResponseFor, storageErrorResponses } from "../../schemas/problem";
import { MAX_INLINE_SOURCES, MAX_SAVED_FEED_SOURCES } from "../../schemas/sources";
import {
  etagHeaderDoc,
  idempotencyErrorResponses,
  idempotencyKeyHeaders,
  ifMatchHeaders,
  preconditionErrorResponses,
  replayHeadersDoc,
} from "../../schemas/writes";

/** GETs answer 304 to a matching `If-None-Match` (every /v1 GET carries an ETag). */
const conditional = z.object({ "if-none-match": cacheRequestHeaderShape["if-none-match"] });

const tags = ["Runs"];

const params = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,64}$/, "Expected a feed id such as feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V.")
    .openapi({ param: { name: "id", in: "path" }, example: "feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
});

const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } }, required: true });
const ok = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

const notFound = { 404: problemResponseFor("No feed with this id belongs to your API key (`not-found`).") };
const storage = storageErrorResponses("Or `service-unavailable`: the deployment has no `API_KEYS` and fails closed.");

export const create = createRoute({
  method: "post",
  path: "/feeds",
  operationId: "createFeed",
  tags,
  summary: "Save a feed: a set of sources to walk by id",
  description: `Saves a set of merged-feed sources under an id, so a walk of \`GET /v1/runs\` names them with one \`feed={id}\` parameter instead of one \`source=\` each (100 sources would make a 6 KB URL). The sources are validated and canonicalised as \`source=\` is; repeats are dropped. A feed is immutable, so its walks never change under their cursors: to change the set, save another and delete this one. A feed takes up to ${MAX_SAVED_FEED_SOURCES} sources; \`source=\` takes at most ${MAX_INLINE_SOURCES}.`,
  request: { body: json(CreateFeedSchema), headers: idempotencyKeyHeaders },
  responses: {
    201: {
      ...ok("The saved feed.", FeedSchema),
      headers: {
        Location: { description: "The new feed's URL.", schema: { type: "string" } },
        ...replayHeadersDoc,
      },
    },
    ...authErrorResponses,
    400: problemResponseFor("Invalid input (`validation-error`): every offending field is named in `errors`."),
    ...idempotencyErrorResponses,
    ...storage,
  },
});

export const list = createRoute({
  method: "get",
  path: "/feeds",
  operationId: "listFeeds",
  ...cursorPagination,
  tags,
  summary: "List saved feeds",
  description: "Your API key's saved feeds, newest first, cursor-paged like every list.",
  request: { query: z.strictObject({ ...listQueryShape }), headers: conditional },
  responses: {
    ...listOf(FeedSchema, "FeedList", "A page of saved feeds."),
    304: notModifiedResponse,
    ...authErrorResponses,
    ...storage,
  },
});

export const get = createRoute({
  method: "get",
  path: "/feeds/{id}",
  operationId: "getFeed",
  tags,
  summary: "Get a saved feed",
  request: { params, headers: conditional },
  responses: {
    200: { ...ok("The feed.", FeedSchema), headers: etagHeaderDoc },
    304: notModifiedResponse,
    ...authErrorResponses,
    ...storage,
    ...notFound,
  },
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
  responses: {
    204: { description: "Deleted." },
    ...authErrorResponses,
    ...notFound,
    ...preconditionErrorResponses,
    ...storage,
  },
});

export type CreateRoute = typeof create;
export type ListRoute = typeof list;
export type GetRoute = typeof get;
export type RemoveRoute = typeof remove;
