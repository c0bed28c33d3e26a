import type { RouteHandler } from "@hono/zod-openapi";
import { toAttempt } from "../../delivery/attempts";
import type { AttemptRow } from "../../delivery/delivery-store";
import { toEvent } from "../../events/model";
import { type EventRow, findEvent } from "../../events/store";
import type { AppEnv } from "../../http/app-env";
import { tenantOf } from "../../http/auth";
import type { Filters } from "../../paging/listing";
import { oneFilter } from "../../schemas/filters";
import { canonicalSourceKey } from "../../schemas/sources";
import { toRfc3339 } from "../../shared/time";
import { sentFilters } from "../filters";
import { d1Page, owned } from "../resource.handlers";
import type { AttemptsRoute, GetRoute, ListRoute } from "./events.routes";

/** SQL conditions for the event filters of a walk (from the request, or from its cursor). */
function eventConditions(key: string, filters: Filters) {
  const where = ["tenant = ?"];
  const params: string[] = [key];
  const one = (name: string) => oneFilter(filters, name);
  const add = (sql: string, value: string | undefined) => {
    if (value === undefined) return;
    where.push(sql);
    params.push(value);
  };
  add("type = ?", one("type"));
  add("source = ?", one("source"));
  add("created_at >= ?", one("created_from"));
  add("created_at <= ?", one("created_to"));
  return { where, params };
}

export const list: RouteHandler<ListRoute, AppEnv> = async (c) => {
  const { limit, cursor, source, created_from, created_to, ...rest } = c.req.valid("query");
  const sent = sentFilters({
    ...rest,
    source: source === undefined ? undefined : (canonicalSourceKey(source) ?? source),
    created_from: created_from === undefined ? undefined : toRfc3339(created_from),
    created_to: created_to === undefined ? undefined : toRfc3339(created_to),
  });
  return d1Page(c, { route: "events", sent, limit, cursor }, "events", (filters) => ({
    db: c.env.DB,
    table: "events",
    ...eventConditions(tenantOf(c), filters),
    map: (row: EventRow) => toEvent(row),
  }));
};

const events = { noun: "event", find: findEvent };

export const get: RouteHandler<GetRoute, AppEnv> = async (c) => {
  return c.json(toEvent(await owned(c, events, c.req.valid("param").id)), 200);
};

export const attempts: RouteHandler<AttemptsRoute, AppEnv> = async (c) => {
  const event = await owned(c, events, c.req.valid("param").id);
  const page = { route: "events.attempts", sent: { event_id: event.id }, ...c.req.valid("query") };
  return d1Page(c, page, "attempts", (filters) => ({
    db: c.env.DB,
    table: "delivery_attempts",
    where: ["event_id = ?"],
    params: [String(filters.event_id)],
    map: (row: AttemptRow) => toAttempt(row),
  }));
};
