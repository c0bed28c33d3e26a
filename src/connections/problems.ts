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

/**
 * The 409 of a read refused with a credential the connection no longer has: it changed while the read was under way
 * (a new credential saved in another isolate, say). The connection stays `active`, and a retry reads with its current
 * credential.
 */
export function changedWhileReading(row: ConnectionRow, info: UpstreamInfo): ProblemError {
  const provider = providerNames[row.provider];
  return new ProblemError("connection-invalid", {
    detail: `${provider} rejected the credential this request read connection ${row.id} with, but the connection changed meanwhile (a new credential, say) and is still active. Retry: its current credential is used.`,
    extensions: { connection: row.id, upstream: info },
  });
}
