import type { Context, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import type { AppEnv } from "../env";

/** A list page's body as the list routes send it: the items, then `page`. */
interface ListBody {
  data: unknown[];
  page: object;
}

/** A list page's response and its body as serialized: `body` ends with `"page":<page>}`. */
export interface SerializedPage {
  response: Response;
  body: string;
  page: string;
}

declare module "hono" {
  interface ContextVariableMap {
    /**
     * Set by `listResponse` for the cache layer (src/cache/headers.ts): it takes the body's text from here instead
     * of reading the response again, and tags the page without parsing its items. It holds the response it
     * describes, so a response replaced on the way (an error, for instance) is never taken for the page.
     */
    listPage?: SerializedPage;
  }
}

/** The serialized body of `res`, if `listResponse` built it in this request. */
export function serializedPage(c: Context, res: Response): SerializedPage | undefined {
  const page = c.get("listPage");
  return page?.response === res ? page : undefined;
}

/**
 * `c.json(body, 200, headers)` for a list page: the same bytes, headers and type, and the serialized body (plus
 * `page` on its own) handed to the cache layer.
 * @example return listResponse(c, await readListing(c, req))
 */
export function listResponse<T extends ListBody>(
  c: Context<AppEnv>,
  { body, headers }: { body: T; headers: Record<string, string> },
): Response & TypedResponse<JSONParsed<T>, 200, "json"> {
  // What c.json does: serialize, then a response with the JSON content type unless `headers` says otherwise.
  const text = JSON.stringify(body);
  const res: Response = c.body(text, 200, { "Content-Type": "application/json", ...headers });
  // `page` is the last member (as readListing builds the body), so the body ends with it.
  const page = Object.keys(body).at(-1) === "page" ? JSON.stringify(body.page) : undefined;
  if (page !== undefined && text.endsWith(`"page":${page}}`)) c.set("listPage", { response: res, body: text, page });
  // The same bytes c.json would send for `body`, so the same type.
  return res as Response & TypedResponse<JSONParsed<T>, 200, "json">;
}
