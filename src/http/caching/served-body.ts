import type { Context } from "hono";

/**
 * A list page's body in the two parts it is serialized from: everything up to and including `"page":`, and the
 * JSON of `page`, its last member. The body is `joinListBody(parts)`.
 */
export interface ListBodyParts {
  head: string;
  page: string;
}

/** The body of the response a GET is answered with, as text; a list page's also in its parts. */
export interface ServedBody {
  response: Response;
  text: string;
  parts?: ListBodyParts;
}

declare module "hono" {
  interface ContextVariableMap {
    /**
     * The body of a response as serialized, set where it is built (`listResponse`) or first read (the cache layer):
     * the cache layer then neither reads it again nor parses a list page's items. It holds the response it
     * describes, so a response replaced on the way (an error, for instance) is never taken for it.
     */
    servedBody?: ServedBody;
  }
}

/** A list page's body from its parts: `${head}${page}}`. */
export const joinListBody = ({ head, page }: ListBodyParts): string => `${head}${page}}`;

/**
 * `JSON.stringify(body)`, built from its parts when `page` is the body's last member (as the list routes build
 * their bodies); without parts otherwise.
 * @example serializeListBody({ data: [], page: { limit: 1 } }) // { text: '{"data":[],"page":{"limit":1}}', parts: { head: '{"data":[],"page":', page: '{"limit":1}' } }
 */
export function serializeListBody<B extends { page: unknown }>(body: B): { text: string; parts?: ListBodyParts } {
  const { page, ...rest } = body;
  const pageText: string | undefined = JSON.stringify(page);
  if (Object.keys(body).at(-1) !== "page" || pageText === undefined) return { text: JSON.stringify(body) };
  const restText = JSON.stringify(rest);
  const parts = { head: `${restText.slice(0, -1)}${restText === "{}" ? "" : ","}"page":`, page: pageText };
  return { text: joinListBody(parts), parts };
}

/** Records `response`'s body as serialized, for the cache layer. */
export function handOverBody(c: Context, response: Response, text: string, parts?: ListBodyParts): void {
  c.set("servedBody", { response, text, ...(parts ? { parts } : {}) });
}

/** The body handed over for `response` in this request, if any. */
export function handedBody(c: Context, response: Response): ServedBody | undefined {
  const served = c.get("servedBody");
  return served?.response === response ? served : undefined;
}

/**
 * The body of the response in `c.res`, read once: as handed over where it was built, else read from a copy that
 * takes its place (so the cache layer may set headers on it whatever made it).
 * @example const { text, parts } = await servedBody(c)
 */
export async function servedBody(c: Context): Promise<ServedBody> {
  const handed = handedBody(c, c.res);
  if (handed) return handed;
  const text = await c.res.clone().text();
  c.res = new Response(text, { status: c.res.status, headers: new Headers(c.res.headers) });
  handOverBody(c, c.res, text);
  return { response: c.res, text };
}
