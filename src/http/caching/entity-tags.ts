import { createMiddleware } from "hono/factory";
import { configOf } from "../../config";
import type { AppEnv } from "../app-env";
import { entityTag, listPageEntityTag } from "./etag";
import { type ServedBody, servedBody } from "./served-body";

/** The entity tag of a served body: a list page's from its parts, without parsing its items (see etag.ts). */
export const servedEntityTag = ({ text, parts }: ServedBody, cursorTtlSeconds: number): Promise<string> =>
  parts ? listPageEntityTag(parts, cursorTtlSeconds) : entityTag(text, cursorTtlSeconds);

/**
 * Puts an `ETag` on every successful GET, like Hono's etag middleware: weak on list pages, strong on anything else
 * (see `entityTag`). The 304 is `notModified`'s, which comes after the ready page is kept.
 */
export const entityTags = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method !== "GET" || c.res.status !== 200) return;
  const served = await servedBody(c);
  c.res.headers.set("ETag", await servedEntityTag(served, configOf(c.env).cursorTtlSeconds));
});
