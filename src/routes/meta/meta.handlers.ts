import type { RouteHandler } from "@hono/zod-openapi";
import { version } from "../../../package.json";
import type { AppEnv } from "../../http/app-env";
import { problemTypes, problemTypeUri } from "../../shared/problem";
import type { GetProblemTypeRoute, HealthRoute } from "./meta.routes";

export const health: RouteHandler<HealthRoute, AppEnv> = (c) => c.json({ status: "ok" as const, version }, 200);

export const getProblemType: RouteHandler<GetProblemTypeRoute, AppEnv> = (c) => {
  const { slug } = c.req.valid("param");
  return c.json({ type: problemTypeUri(slug), ...problemTypes[slug] }, 200);
};
