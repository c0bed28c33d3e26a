import { createMiddleware } from "hono/factory";
import { configOf } from "../config";
import { loggerOf } from "../shared/logger";
import type { AppEnv } from "./app-env";

/** Puts the deployment's config and logger into the context, parsed once per isolate, for every later step. */
export const init = createMiddleware<AppEnv>(async (c, next) => {
  c.set("config", configOf(c.env));
  c.set("log", loggerOf(c.env));
  await next();
});
