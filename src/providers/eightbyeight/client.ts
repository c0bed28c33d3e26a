import { ProblemError } from "../../shared/problem";
import type { Credential } from "../../upstream/credential";
import { providerClient } from "../provider-client";

/** 8x8 Automation: bearer auth; its documented codes 1000 (bad definition id) and 1300 (no such definition). */
export function eightByEightClient(baseUrl: string, credential: Credential, timeoutMs: number) {
  return providerClient("8x8", baseUrl, credential, timeoutMs, {
    authHeaders: (key) => ({ Authorization: `Bearer ${key}` }),
    mapError: (status, body, info) => {
      if (status === 400 && body.code === 1000) {
        return new ProblemError("validation-error", {
          detail: "8x8 rejected the definition id: it is not a valid UUID.",
          errors: [{ in: "path", name: "definition_id", message: body.message ?? "Invalid definition id." }],
          extensions: { upstream: info },
        });
      }
      if (status === 404) {
        return new ProblemError("not-found", {
          detail: body.message ?? "8x8 has no such definition.",
          extensions: { upstream: info },
        });
      }
      return null;
    },
  });
}
