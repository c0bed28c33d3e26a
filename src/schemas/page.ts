import { z } from "@hono/zod-openapi";
import { queryParam } from "./params";
import { authErrorResponses, problemResponseFor } from "./problem";

const CURSOR_DOC = [
  "Opaque, URL-safe cursor from `page.next_cursor` or `page.prev_cursor` (or the `Link` header).",
  "It carries the walk's filters and limit, so they may be omitted; if sent, they must match.",
  "`limit` may change between pages. Cursors are signed, bound to the route, its path parameters, filters, sort,",
  "the API key and any pass-through upstream credential, and expire after 24 hours (`CURSOR_TTL_SECONDS`):",
  "anything else is a 400 `invalid-cursor` or `cursor-expired` problem telling you to restart.",
].join(" ");

/** The `limit` of a page, 1..500; `description` gives its default. */
export const limitParam = (description: string, example: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .optional()
    .openapi({ ...queryParam("limit"), description, example });

/** The `cursor` a page hands out; `description` says what it carries and how long it lasts. */
export const cursorParam = (description: string) =>
  z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .openapi({ ...queryParam("cursor"), description });

/** `limit` and `cursor`: the part of the query every list route shares. */
export const listQueryShape = {
  limit: limitParam("Items per page, 1..500. Default 50, or the limit of the page that issued the cursor.", 50),
  cursor: cursorParam(CURSOR_DOC),
};

/**
 * Declares a list operation's cursor walk to SDK generators (Speakeasy's `x-speakeasy-pagination`): send `cursor`,
 * follow `page.next_cursor` until it is null, the items are `data`. Spread into every list route's `createRoute`.
 */
export const cursorPagination = {
  "x-speakeasy-pagination": {
    type: "cursor",
    inputs: [{ name: "cursor", in: "parameters", type: "cursor" }],
    outputs: { nextCursor: "$.page.next_cursor", results: "$.data" },
  },
};

export const PageSchema = z
  .object({
    limit: z.number().int().openapi({ example: 50 }),
    has_more: z
      .boolean()
      .openapi({ description: "Whether items follow this page; true exactly when `next_cursor` is set." }),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: "Cursor for the next page; null exactly when no items follow." }),
    prev_cursor: z
      .string()
      .nullable()
      .openapi({ description: "Cursor for the previous page; null on the first page." }),
    total: z.number().int().nullable().openapi({
      description: "The upstream's count of all matching items where it has one (Inkit); null where it has none (8x8).",
      example: 2693,
    }),
  })
  .openapi("Page");

/** The listing envelope `{data, page}` around an item schema; `page` may extend `Page` (the feed's errors). */
export function listEnvelope<T extends z.ZodType>(item: T, name: string, page: z.ZodType = PageSchema) {
  return z.object({ data: z.array(item), page }).openapi(name);
}

/**
 * The 200 of every list route: a page in the listing envelope, with the `Link` header. Spread it beside the
 * route's error responses.
 * @example responses: { ...listOf(EventSchema, "EventList", "A page of events."), ...authErrorResponses }
 */
export function listOf<T extends z.ZodType>(item: T, name: string, description: string, page?: z.ZodType) {
  return {
    200: {
      description,
      headers: linkHeaderDoc,
      content: { "application/json": { schema: listEnvelope(item, name, page) } },
    },
  };
}

const header = (description: string, example: string) => ({
  description,
  schema: { type: "string" as const },
  example,
});

/** Response headers of every cacheable GET (lists and single items). */
export const cacheHeadersDoc = {
  ETag: header(
    "Validator of the answer; send it back as `If-None-Match` to get a 304 when nothing changed. On list pages it is weak (`W/\"…\"`): it stands for the page's content (items, `page`, the positions the cursors carry), not for the cursors' bytes, which also carry the walk's snapshot time. It changes when that content changes, and at least once per half cursor lifetime, so a kept page never holds cursors close to expiry. Single items carry a strong ETag.",
    'W/"5d41402abc4b2a76b9719d911017c592"',
  ),
  "Cache-Status": header(
    "RFC 9211: how tributary's listing cache served this answer: `hit` (fresh; `ttl` seconds left), `hit; ttl=-N; detail=stale` (stale, refreshed in the background), `fwd=miss` or `fwd=request` (from the upstream; `stored` when written back), `detail=cache-unavailable` (KV failed, served from the upstream).",
    "tributary; hit; ttl=12",
  ),
  Age: header("Seconds since the data was fetched from the upstream.", "3"),
  "Cache-Control": header("`private, max-age=<seconds of freshness left>`.", "private, max-age=12"),
  "Server-Timing": header(
    "W3C Server Timing, on every `/v1` answer (problems too): per upstream called, the time spent in its calls (summed; up to six run at once) and their number; the listing cache's outcome (`hit`, `stale`, `miss`, `bypass`, or `none` when nothing was read through it); the total. Never credentials, query strings or cursors.",
    'inkit;dur=41.2;desc="2 calls", cache;desc=miss, total;dur=57.9',
  ),
};

/** The 304 answer to a matching `If-None-Match`. */
export const notModifiedResponse = {
  description: "Not modified: the content equals that of the answer with this `ETag`; the body you kept stays usable.",
  headers: cacheHeadersDoc,
};

/** Request headers every cacheable GET accepts. */
export const cacheRequestHeaderShape = {
  "if-none-match": z
    .string()
    .max(1024)
    .optional()
    .openapi({
      param: { name: "if-none-match", in: "header" },
      description:
        "An `ETag` from an earlier answer: 304 when the content is unchanged (weak comparison, RFC 9110). Also with `Cache-Control: no-cache`, which fetch clients add to every conditional request: the upstream is asked, and the answer is a 304 when its data did not change.",
    }),
  "cache-control": z
    .string()
    .max(256)
    .optional()
    .openapi({
      param: { name: "cache-control", in: "header" },
      description: "`no-cache` skips the listing cache: the upstream is asked, and the cached entry refreshed.",
    }),
};

/** Response headers of a list page. */
export const linkHeaderDoc = {
  Link: header(
    'RFC 8288 links to the neighbouring pages as absolute URLs: `rel="next"` and `rel="prev"`, when they exist.',
    '<https://tributary.example/v1/inkit/runs?cursor=k1.eyJ2Ijox...>; rel="next"',
  ),
  ...cacheHeadersDoc,
};

/** Error responses of every list route. */
export const listErrorResponses = {
  304: notModifiedResponse,
  ...authErrorResponses,
  400: problemResponseFor(
    "Invalid input (`validation-error`, naming every offending parameter in `errors`, unknown parameters included), or a cursor that is modified, foreign to this route, caller or filters (`invalid-cursor`), or too old (`cursor-expired`).",
  ),
  502: problemResponseFor(
    "The upstream failed (`upstream-error`), rejected our configured credential (`upstream-auth`) or answered with a malformed body (`upstream-invalid-response`). `upstream` names the provider and its status, code and error id.",
  ),
  504: problemResponseFor("The upstream did not answer in time (`upstream-timeout`). `upstream` names the provider."),
} as const;
