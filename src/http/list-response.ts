import type { Context, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import { staged } from "../observability/stages";
import type { AppEnv } from "./app-env";
import { handOverBody, serializeListBody } from "./caching/served-body";

/** A list page's body as the list routes send it: the items, then `page`. */
interface ListBody {
  data: unknown[];
  page: object;
}

/**
 * `c.json(body, 200, headers)` for a list page: the same bytes, headers and type, and the serialized body (in its
 * parts, see src/http/caching/served-body.ts) handed to the cache layer.
 * @example return listResponse(c, await serveListing(c, req))
 */
export function listResponse<T extends ListBody>(
  c: Context<AppEnv>,
  { body, headers }: { body: T; headers: Record<string, string> },
): Response & TypedResponse<JSONParsed<T>, 200, "json"> {
  // What c.json does: serialize, then a response with the JSON content type unless `headers` says otherwise.
  const { text, parts } = staged("serialize", () => serializeListBody(body));
  const res: Response = c.body(text, 200, { "Content-Type": "application/json", ...headers });
  handOverBody(c, res, text, parts);
  // The same bytes c.json would send for `body`, so the same type.
  return res as Response & TypedResponse<JSONParsed<T>, 200, "json">;
}
