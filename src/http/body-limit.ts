import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { ProblemError } from "../shared/problem";
import type { AppEnv } from "./app-env";

/** One limit per size configured: a deployment has one, tests a few. */
const limits = new Map<number, MiddlewareHandler>();

/**
 * Rejects a request body larger than `BODY_LIMIT_BYTES` (64 KiB by default) with a 413 `payload-too-large`
 * problem: at once from `Content-Length`, or as soon as a streamed body passes the limit.
 */
export const requestBodyLimit = createMiddleware<AppEnv>((c, next) => {
  // A request without a body has nothing to measure (bodyLimit would let it through too).
  if (!c.req.raw.body) return next();
  const maxSize = c.get("config").bodyLimitBytes;
  let limit = limits.get(maxSize);
  if (!limit) {
    limit = bodyLimit({
      maxSize,
      onError: () => {
        throw new ProblemError("payload-too-large", { detail: `The request body is larger than ${maxSize} bytes.` });
      },
    });
    limits.set(maxSize, limit);
  }
  return limit(c, next);
});
