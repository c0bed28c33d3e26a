import { ProblemError } from "../../shared/problem";
import type { Credential } from "../../upstream/credential";
import { providerClient } from "../provider-client";

/** Inkit: `X-Inkit-API-Token` auth; a 404 means the requested batch does not exist. */
export function inkitClient(baseUrl: string, credential: Credential, timeoutMs: number) {
  return providerClient("inkit", baseUrl, credential, timeoutMs, {
    authHeaders: (token) => ({ "X-Inkit-API-Token": token }),
    mapError: (status, _body, info) =>
      status === 404
        ? new ProblemError("not-found", { detail: "Inkit has no such batch.", extensions: { upstream: info } })
        : null,
  });
}
