import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { ProblemError } from "../shared/problem";
import type { AppEnv } from "./app-env";

/**
 * Rejects a request body larger than `BODY_LIMIT_BYTES` (64 KiB by default) with a 413 `payload-too-large`
 * problem: at once from `Content-Length`, or as soon as a streamed body passes the limit.
 */
export const requestBodyLimit = createMiddleware<AppEnv>((c, next) => {
  const maxSize = c.get("config").bodyLimitBytes;
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ProblemError("payload-too-large", { detail: `The request body is larger than ${maxSize} bytes.` });
    },
  })(c, next);
});
