import { providerNames } from "../schemas/sources";
import { ProblemError } from "../shared/problem";
import type { UpstreamInfo } from "../upstream/fetch";
import type { ConnectionRow } from "./store";

/** The 409 of a read through an invalid connection: which one, why, and how to bring it back. */
export function invalidConnection(row: ConnectionRow, info?: UpstreamInfo): ProblemError {
  return new ProblemError("connection-invalid", {
    detail: `Connection ${row.id} (${providerNames[row.provider]}) is invalid: ${row.last_error ?? "its credential was rejected"}. PATCH /v1/connections/${row.id} with a working credential (it is checked first); its sources resume where they stopped.`,
    extensions: { connection: row.id, ...(info ? { upstream: info } : {}) },
  });
}
