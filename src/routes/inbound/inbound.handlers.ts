import type { RouteHandler } from "@hono/zod-openapi";
import { eightByEightSourcesFor, inkitSourcesFor, recheckSources } from "../../detection/inbound";
import { sourceDeps } from "../../detection/sources";
import { watchedSources } from "../../detection/store";
import type { AppEnv } from "../../http/app-env";
import { formatSourceKey } from "../../schemas/sources";
import type { EightByEightRoute, InkitRoute } from "./inbound.routes";

export const inkit: RouteHandler<InkitRoute, AppEnv> = async (c) => {
  const { resource_id } = c.req.valid("json");
  const deps = sourceDeps(c.env, (p) => c.executionCtx.waitUntil(p));
  const sources = await recheckSources(c.env, deps, inkitSourcesFor(resource_id), [resource_id]);
  return c.json({ accepted: true as const, sources }, 202);
};

export const eightByEight: RouteHandler<EightByEightRoute, AppEnv> = async (c) => {
  const { definitionId, accountId, workflowId } = c.req.valid("json");
  const watched = eightByEightSourcesFor(await watchedSources(c.env.DB), definitionId, accountId);
  const named = accountId && formatSourceKey({ provider: "8x8", accountId, definitionId: definitionId.toLowerCase() });
  const keys = named && watched.length === 0 ? [named] : watched;
  const deps = sourceDeps(c.env, (p) => c.executionCtx.waitUntil(p));
  const sources = await recheckSources(c.env, deps, keys, [workflowId.toLowerCase()]);
  return c.json({ accepted: true as const, sources }, 202);
};
