import { configOf } from "../config";
import type { Provider } from "../schemas/sources";
import { ProblemError } from "../shared/problem";
import { eightByEightClient } from "./eightbyeight/client";
import { EightByEightListSchema } from "./eightbyeight/schemas";
import { inkitClient } from "./inkit/client";
import { InkitRunSchema, inkitListSchema } from "./inkit/schemas";

/**
 * No definition has this id: a key of the account answers it "no such definition" (404, code 1300), a bad key 401.
 * 8x8 offers no call that proves a key without naming a definition, so the probe names none that exists.
 */
const NIL_DEFINITION = "00000000-0000-0000-0000-000000000000";

/**
 * One cheap authenticated call that a working credential passes: Inkit's first run (`GET /v1/invoke`, one item), or
 * 8x8's instances of a definition that does not exist in the account (`limit=1`). Resolves when the upstream
 * accepted the credential; throws the upstream's problem otherwise (a rejected credential as `unauthorized`, with
 * the upstream's answer in `extensions.upstream`). An 8x8 key of another account is not caught here: its first
 * listing answers 404.
 */
export async function probeCredential(
  env: Env,
  provider: Provider,
  accountId: string | null,
  secret: string,
): Promise<void> {
  const credential = { value: secret, passThrough: true };
  const timeoutMs = configOf(env).upstreamTimeoutMs;
  if (provider === "inkit") {
    const client = inkitClient(env.INKIT_BASE_URL, credential, timeoutMs);
    await client.get("/v1/invoke", { page: "1", page_size: "1" }, inkitListSchema(InkitRunSchema));
    return;
  }
  const client = eightByEightClient(env.EIGHTBYEIGHT_BASE_URL, credential, timeoutMs);
  const path = `/api/v1/accounts/${encodeURIComponent(accountId ?? "")}/definitions/${NIL_DEFINITION}/workflows`;
  try {
    await client.get(path, { limit: "1" }, EightByEightListSchema);
  } catch (err) {
    if (err instanceof ProblemError && err.type === "not-found") return;
    throw err;
  }
}
