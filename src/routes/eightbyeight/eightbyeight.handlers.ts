import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/app-env";
import { listResponse } from "../../http/list-response";
import { serveListing } from "../../http/listing";
import { upstreamCredential } from "../../providers/credentials";
import { versionOf } from "../../providers/eightbyeight/source";
import { openReader } from "../../providers/readers";
import { formatSourceKey } from "../../schemas/sources";
import type { Credential } from "../../upstream/credential";
import { sentFilters } from "../filters";
import { connectionFilter, readCredentials } from "../read-credentials";
import type { ListRunsRoute } from "./eightbyeight.routes";

export const listRuns: RouteHandler<ListRunsRoute, AppEnv> = async (c) => {
  const { limit, cursor, ...query } = c.req.valid("query");
  const { body, headers } = await serveListing(c, {
    route: "8x8.runs",
    // UUIDs compare case-insensitively: one canonical form for cursors and cache keys.
    sent: sentFilters(query, {
      ...c.req.valid("param"),
      definition_id: c.req.valid("param").definition_id.toLowerCase(),
    }),
    defaults: {},
    limit,
    cursor,
    credential: upstreamCredential(c, "8x8"),
    lanes: async (filters) => {
      const { connection, where, upstream } = connectionFilter(filters, query);
      const [accountId, definitionId] = [String(filters.account_id), String(filters.definition_id)];
      const key = { provider: "8x8", accountId, definitionId, ...(connection ? { connection } : {}) } as const;
      const [credential] = (await readCredentials(c, [key], where)) as [Credential];
      const deps = { env: c.env, cache: c.get("cache") };
      const open = (pin: string | null, version: string | null) =>
        openReader(key, deps, { credential, filters: upstream, pin, version });
      return [{ name: formatSourceKey(key), open, pinnable: true, versionOf }];
    },
    order: () => "desc",
  });
  return listResponse(c, { body, headers });
};
