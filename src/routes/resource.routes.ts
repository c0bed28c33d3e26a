// The createRoute pieces route folders share: JSON bodies and answers, and what the routes of the resources an API
// key keeps in D1 (webhook endpoints, event subscriptions, saved feeds, the events recorded for it) have in common:
// their ids, their 201, 404 and 304, and the errors of every route over D1.
import { createRoute, z } from "@hono/zod-openapi";
import {
  cacheRequestHeaderShape,
  cursorPagination,
  listOf,
  listQueryShape,
  notModifiedResponse,
} from "../schemas/page";
import { pathParam } from "../schemas/params";
import { authErrorResponses, problemResponseFor, storageErrorResponses } from "../schemas/problem";
import {
  etagHeaderDoc,
  idempotencyErrorResponses,
  preconditionErrorResponses,
  replayHeadersDoc,
} from "../schemas/writes";

/** Request headers of a GET: a matching `If-None-Match` gets a 304 (every /v1 GET carries an ETag). */
export const conditionalHeaders = z.object({ "if-none-match": cacheRequestHeaderShape["if-none-match"] });

/** The query of a list with no filters: `limit` and `cursor`. */
export const listQuery = z.strictObject({ ...listQueryShape });

/**
 * The `id` path parameter of a stored resource.
 * @example const params = idParams("a feed", "feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V")
 */
export const idParams = (what: string, example: string) =>
  z.object({ id: pathParam("id", /^[A-Za-z0-9_]{1,64}$/, `Expected ${what} id such as ${example}.`, example) });

/** A required JSON request body. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

/** A JSON answer. */
export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

/** A JSON answer that shows the resource's state, with the strong `ETag` of that state. */
export const taggedResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  ...jsonResponse(description, schema),
  headers: etagHeaderDoc,
});

/** The answer of a POST, which a repeat with the same `Idempotency-Key` replays. */
export const replayableResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  ...jsonResponse(description, schema),
  headers: replayHeadersDoc,
});

/** The 201 of a create: the new resource, its URL in `Location` (`noun` names it), replayable. */
export const createdResponse = <T extends z.ZodType>(description: string, schema: T, noun: string) => ({
  ...jsonResponse(description, schema),
  headers: {
    Location: { description: `The new ${noun}'s URL.`, schema: { type: "string" as const } },
    ...replayHeadersDoc,
  },
});

/** The 404 of an id that names none of the caller's resources of this kind. */
export const notFoundResponse = (noun: string) => ({
  404: problemResponseFor(`No ${noun} with this id belongs to your API key (\`not-found\`).`),
});

/** The 400 of a body checked field by field. */
export const invalidBodyResponse = {
  400: problemResponseFor("Invalid input (`validation-error`): every offending field is named in `errors`."),
};

/** The errors of every route over D1 whose only other cause of a 503 is a deployment without `API_KEYS`. */
export const storedErrorResponses = {
  ...authErrorResponses,
  ...storageErrorResponses("Or `service-unavailable`: the deployment has no `API_KEYS` and fails closed."),
};

/** The errors of a POST that creates a resource under `Idempotency-Key`. */
export const createErrorResponses = { ...storedErrorResponses, ...invalidBodyResponse, ...idempotencyErrorResponses };

/** The answers of a GET of one resource: `ok`, a 304, or a 404 (`notFound`). */
export const getResponses = <Ok extends object, NotFound extends object>(ok: Ok, notFound: NotFound) => ({
  200: ok,
  304: notModifiedResponse,
  ...storedErrorResponses,
  ...notFound,
});

/** The answers of a list: a page of `item`s in the envelope `name`, or a 304. */
export const listResponses = <T extends z.ZodType>(item: T, name: string, description: string) => ({
  ...listOf(item, name, description),
  304: notModifiedResponse,
  ...storedErrorResponses,
});

/** The errors of a PATCH or DELETE under `If-Match` of a resource (`notFound` is its 404). */
export const guardedWriteErrorResponses = <NotFound extends object>(notFound: NotFound) => ({
  ...storedErrorResponses,
  ...notFound,
  ...preconditionErrorResponses,
});

/** The answers of a DELETE under `If-Match`. */
export const deleteResponses = <NotFound extends object>(notFound: NotFound) => ({
  204: { description: "Deleted." },
  ...guardedWriteErrorResponses(notFound),
});

/** What names one kind of resource an API key keeps, in its routes and their documentation. */
interface OwnedResource<P extends string> {
  /** The collection's path, e.g. `/feeds`. */
  path: P;
  tags: string[];
  /** The operation and its one-line summary. */
  operationId: string;
  summary: string;
}

/**
 * The list route of a resource an API key keeps, with no filters: the key's own, newest first, cursor-paged.
 * @example export const list = ownedListRoute({ path: "/feeds", ..., plural: "saved feeds", item: FeedSchema, name: "FeedList" })
 */
export const ownedListRoute = <P extends string, T extends z.ZodType>(
  r: OwnedResource<P> & { plural: string; item: T; name: string; page: string },
) =>
  createRoute({
    method: "get",
    path: r.path,
    operationId: r.operationId,
    ...cursorPagination,
    tags: r.tags,
    summary: r.summary,
    description: `Your API key's ${r.plural}, newest first, cursor-paged like every list.`,
    request: { query: listQuery, headers: conditionalHeaders },
    responses: listResponses(r.item, r.name, r.page),
  });

/**
 * The GET of one resource an API key keeps, at `{path}/{id}`: `ok`, a 304, or the 404 of an id that is not the key's.
 * @example export const get = ownedGetRoute({ path: "/feeds/{id}", ..., params, ok: taggedResponse("The feed.", FeedSchema), notFound })
 */
export const ownedGetRoute = <P extends string, Params extends z.ZodObject, Ok extends object, NotFound extends object>(
  r: OwnedResource<P> & { params: Params; ok: Ok; notFound: NotFound },
) =>
  createRoute({
    method: "get",
    path: r.path,
    operationId: r.operationId,
    tags: r.tags,
    summary: r.summary,
    request: { params: r.params, headers: conditionalHeaders },
    responses: getResponses(r.ok, r.notFound),
  });
