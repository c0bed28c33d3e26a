import type { Connection } from "../schemas/connection";
import { strongEntityTag } from "../shared/entity-tag";
import type { ConnectionRow } from "./store";

/** The API shape of a connection: never its credential, sealed or not. */
export const toConnection = (row: ConnectionRow): Connection => ({
  id: row.id,
  provider: row.provider,
  name: row.name,
  account_id: row.account_id,
  status: row.status,
  status_changed_at: row.status_changed_at,
  last_used_at: row.last_used_at,
  last_error: row.last_error,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

/** The strong entity tag of a connection's state: the `ETag` its GET carries, compared with `If-Match`. */
export const connectionTag = (row: ConnectionRow) => strongEntityTag(JSON.stringify(toConnection(row)));
