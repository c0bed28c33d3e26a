import { z } from "@hono/zod-openapi";
import { isIso8601, toRfc3339 } from "../shared/time";
import { EVENT_TYPES } from "./events";
import { queryParam } from "./params";
import { CONNECTION_ID } from "./sources";
import { instantSchema } from "./webhook-endpoint";

/** A single-valued filter of a walk (from the request or its cursor), or undefined when absent or a list. */
export const oneFilter = (filters: Record<string, string | string[]>, name: string): string | undefined => {
  const value = filters[name];
  return typeof value === "string" ? value : undefined;
};

/** Inkit's documented sort keys, `-` for descending. */
const INKIT_SORTS = [
  "-created_at",
  "created_at",
  "-updated_at",
  "updated_at",
  "-name",
  "name",
  "-status",
  "status",
] as const;

export const DEFAULT_INKIT_SORT = "-created_at";

const SORT_DOC = [
  "Sort key; a `-` prefix sorts descending. Default `-created_at`: newest first by creation time",
  "(we ask Inkit for it explicitly: its own default sorts by `updated_at`). Creation-time sorts are served in tributary's",
  "order: `created_at`, then `id`, both in the sort's direction, whatever order Inkit gives tied timestamps.",
  "Walks are exactly-once under sorts by `created_at`; a sort by a field that changes while you walk",
  "(`updated_at`, `status`, `name`) can move an item across your position, so it may be seen twice or not at all.",
].join(" ");

/** `connection`: read through one of the caller's connections instead of the request's or the deployment's credential. */
export const connectionShape = {
  connection: z
    .string()
    .regex(new RegExp(`^${CONNECTION_ID}$`), "Expected a connection id such as conn_01JD5Q0Z8K3M4N5P6Q7R8S9T0V.")
    .optional()
    .openapi({
      ...queryParam("connection"),
      description:
        "Read through one of your connections (`POST /v1/connections`): with its credential instead of this deployment's or the one in the credential header (send one or the other). Later pages' cursors keep it.",
      example: "conn_01JD5Q0Z8K3M4N5P6Q7R8S9T0V",
    }),
};

/** Filters shared by every Inkit list route; the names are Inkit's own. */
export const inkitFilterShape = {
  search: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ ...queryParam("search"), description: "Only records matching this search key.", example: "Invoice" }),
  destination_name: z
    .string()
    .regex(/^[a-z0-9_]{1,64}$/, "Expected a destination type such as inkit_storage or sepire.")
    .optional()
    .openapi({
      ...queryParam("destination_name"),
      description: "Only records with this destination type.",
      example: "inkit_storage",
    }),
  destination_status: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({
      ...queryParam("destination_status"),
      description: "Only records with this destination status (Inkit's text).",
      example: "Completed",
    }),
  sort: z
    .enum(INKIT_SORTS)
    .optional()
    .openapi({ ...queryParam("sort"), description: SORT_DOC, example: "-created_at" }),
};

/** `data_id` of the runs route: a comma-separated list of run ids. */
export const dataIdShape = {
  data_id: z
    .string()
    .max(4000)
    .regex(/^[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*$/, "Expected a comma-separated list of run ids.")
    .optional()
    .openapi({
      ...queryParam("data_id"),
      description: "Only these runs: a comma-separated list of run ids.",
      example: "rend_2DhtpDQ5ErIaNJQRtCpKfN,rend_rHbYbzClfysX85KrJeKCB",
    }),
};

/** Whether a timestamp falls in 1970..9999 in UTC: what every upstream accepts and the cursor can canonicalize. */
const isFilterInstant = (s: string) => isIso8601(s) && toRfc3339(s) >= "1970-01-01T00:00:00.000000Z";

/**
 * An RFC 3339 filter timestamp within 1970-01-01..9999-12-31 UTC. Outside it, `toRfc3339` throws (a 500) or the
 * upstream refuses the value (a 502): both are the client's 400 instead.
 */
const datetime = z.iso.datetime({
  offset: true,
  message: "Expected an RFC 3339 timestamp such as 2026-10-01T00:00:00Z.",
});
const rfc3339 = datetime.refine((s) => !datetime.safeParse(s).success || isFilterInstant(s), {
  message: "Expected a timestamp between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z.",
});

/** A time filter of a listing of runs: an RFC 3339 timestamp within 1970..9999. */
export const timeFilter = (name: string, description: string, example: string) =>
  rfc3339.optional().openapi({ ...queryParam(name), description, example });

/** Filters of the 8x8 runs route; 8x8 applies each of them itself. */
export const eightByEightFilterShape = {
  version: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .openapi({
      ...queryParam("version"),
      description: "Definition version. Default: the latest version, as 8x8 does.",
      example: 2,
    }),
  status: z
    .enum(["running", "suspended", "completed", "terminated"])
    .optional()
    .openapi({
      ...queryParam("status"),
      description: "Normalized status: running (8x8 Runnable), suspended, completed (Complete), terminated.",
      example: "completed",
    }),
  started_from: timeFilter(
    "started_from",
    "Only runs started at or after this time (RFC 3339).",
    "2026-10-01T00:00:00Z",
  ),
  started_to: timeFilter("started_to", "Only runs started at or before this time (RFC 3339).", "2026-10-31T23:59:59Z"),
};

/** An instant filter of the event log: RFC 3339, with seconds and an offset. */
export const instantFilter = (name: string, description: string) =>
  instantSchema()
    .optional()
    .openapi({ ...queryParam(name), format: "date-time", description, example: "2026-11-01T00:00:00Z" });

/** Filters of the event log; the event stream takes `type` and `source`. */
export const eventFilterShape = {
  type: z
    .enum(EVENT_TYPES)
    .optional()
    .openapi({ ...queryParam("type"), description: "Only events of this type.", example: "run.completed" }),
  source: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({
      ...queryParam("source"),
      description: "Only events seen in this source (a source key).",
      example: "inkit:runs",
    }),
  created_from: instantFilter("created_from", "Only events created at or after this instant (RFC 3339)."),
  created_to: instantFilter("created_to", "Only events created at or before this instant (RFC 3339)."),
};
