import type { ProblemError } from "../shared/problem";
import type { UpstreamInfo } from "./fetch";

/** An upstream credential and whether the caller supplied it (pass-through) or it is the configured secret. */
export interface Credential {
  value: string;
  passThrough: boolean;
  /** Set when the credential is a tenant's connection (see connections/): read through it, it answers for it. */
  connection?: ConnectionUse;
}

/** A connection as a read uses it: its id, and what to do when the upstream rejects its credential. */
export interface ConnectionUse {
  /** `conn_…`: what cursors and cache entries are bound to, so they outlive a rotation of the credential. */
  id: string;
  /** Called when the upstream answers 401 or 403 with this credential; returns the problem to answer instead. */
  rejected(info: UpstreamInfo): Promise<ProblemError>;
}

/**
 * What a credential is known by where it must not be seen: a connection's id, or else its value (hashed by the
 * caller). Cursors and cache entries use it, so a connection's survive a rotation of its credential.
 */
export const credentialIdentity = (credential: Credential): string =>
  credential.connection ? `conn|${credential.connection.id}` : `cred|${credential.value}`;
