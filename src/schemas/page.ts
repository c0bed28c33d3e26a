import { z } from "@hono/zod-openapi";
import { authErrorResponses, problemResponseFor } from "./problem";

const CURSOR_DOC = [
  "Opaque, URL-safe cursor from `page.next_cursor` or `page.prev_cursor` (or the `Link` header).",
  "It carries the walk's filters and limit, so they may be omitted; if sent, they must match.",
  "`limit` may change between pages. Cursors are signed, bound to the route, its path parameters, filters, sort,",
  "the API key and any pass-through upstream credential, and expire after 24 hours (`CURSOR_TTL_SECONDS`):",
  "anything else is a 400 `invalid-cursor` or `cursor-expired` problem telling you to restart.",
].join(" ");

/** `limit` and `cursor`: the part of the query every list route shares. */
export const listQueryShape = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .optional()
    .openapi({
      param: { name: "limit", in: "query" },
      description: "Items per page, 1..500. Default 50, or the limit of the page that issued the cursor.",
      example: 50,
    }),
  cursor: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .openapi({ param: { name: "cursor", in: "query" }, description: CURSOR_DOC }),
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

/** The listing envelope `{data, page}` around an item schema. */
export function listEnvelope<T extends z.ZodType>(item: T, name: string) {
  return z.object({ data: z.array(item), page: PageSchema }).openapi(name);
}

export const linkHeaderDoc = {
  Link: {
    description:
      'RFC 8288 links to the neighbouring pages as absolute URLs: `rel="next"` and `rel="prev"`, when they exist.',
    schema: { type: "string" as const },
    example: '<https://tributary.example/v1/inkit/runs?cursor=k1.eyJ2Ijox...>; rel="next"',
  },
};

/** Error responses of every list route. */
export const listErrorResponses = {
  ...authErrorResponses,
  400: problemResponseFor(
    "Invalid input (`validation-error`, naming every offending parameter in `errors`, unknown parameters included), or a cursor that is modified, foreign to this route, caller or filters (`invalid-cursor`), or too old (`cursor-expired`).",
  ),
  502: problemResponseFor(
    "The upstream failed (`upstream-error`), rejected our configured credential (`upstream-auth`) or answered with a malformed body (`upstream-invalid-response`). `upstream` names the provider and its status, code and error id.",
  ),
  504: problemResponseFor("The upstream did not answer in time (`upstream-timeout`). `upstream` names the provider."),
} as const;
