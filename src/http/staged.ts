import type { MiddlewareHandler } from "hono";
import { recordingStages, type Stage, staged } from "../observability/stages";

/**
 * A middleware whose own work is `stage` for the CPU bench (src/observability/stages.ts): what runs after it (`next`)
 * is charged to the stages below. Without a recorder, the middleware as it is.
 */
export function stagedMiddleware(stage: Stage, middleware: MiddlewareHandler): MiddlewareHandler {
  return (c, next) =>
    recordingStages() ? staged(stage, () => middleware(c, () => staged("other", next))) : middleware(c, next);
}
