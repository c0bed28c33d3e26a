import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./app-env";
import { defaultHook } from "./validation";

/** A router with the shared validation hook, so every route reports bad input the same way. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ strict: true, defaultHook });
}
