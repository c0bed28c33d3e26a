import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/app-env";
import { tenantOf } from "../../http/auth";
import { linkHeader } from "../../http/link-header";
import { listResponse } from "../../http/list-response";
import { cursorKeys } from "../../paging/cursor";
import { canonicalSourceKey } from "../../schemas/sources";
import { toRfc3339 } from "../../shared/time";
import { readStream } from "../../stream/read";
import type { StreamRoute } from "./event-stream.routes";

export const stream: RouteHandler<StreamRoute, AppEnv> = async (c) => {
  const { limit, cursor, since, type, source } = c.req.valid("query");
  const config = c.get("config");
  const body = await readStream(c.env.DB, {
    tenant: tenantOf(c),
    keys: await cursorKeys(c.env.CURSOR_SECRET),
    cursor,
    since: since === undefined ? undefined : toRfc3339(since),
    limit,
    filters: {
      ...(type === undefined ? {} : { type }),
      ...(source === undefined ? {} : { source: canonicalSourceKey(source) ?? source }),
    },
    retentionDays: config.webhookRetentionDays,
  });
  // At the end of the stream: when to poll again with next_cursor.
  const poll: Record<string, string> = body.page.has_more
    ? {}
    : { "Retry-After": String(config.eventStreamPollSeconds) };
  return listResponse(c, { body, headers: { ...linkHeader(new URL(c.req.url), body.page), ...poll } });
};
