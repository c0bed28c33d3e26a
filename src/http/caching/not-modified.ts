import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { ifNoneMatchMatches } from "./etag";

/** The 304 for a response with these headers: every one of them but `Content-Type`, and no body. */
export function notModifiedResponse(headers: Headers): Response {
  const h = new Headers(headers);
  h.delete("Content-Type");
  return new Response(null, { status: 304, headers: h });
}

/**
 * Answers a successful GET with a 304 when the request's `If-None-Match` matches the answer's `ETag` (weak
 * comparison), whether the answer was built or a ready page.
 */
export const notModified = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method !== "GET" || c.res.status !== 200) return;
  const ifNoneMatch = c.req.header("If-None-Match");
  const etag = c.res.headers.get("ETag");
  if (ifNoneMatch !== undefined && etag !== null && ifNoneMatchMatches(ifNoneMatch, etag)) {
    c.res = notModifiedResponse(c.res.headers);
  }
});
