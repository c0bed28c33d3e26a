import { createMiddleware } from "hono/factory";
import { commaList } from "../config";
import type { AppEnv } from "../env";
import { sha256Hex } from "./digest";
import { ProblemError } from "./problem";

const challenge = { "WWW-Authenticate": 'Bearer realm="tributary"' };

/** Compares two secrets in constant time by comparing their SHA-256 digests. */
async function secretsEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/**
 * Requires `Authorization: Bearer <key>` with a key listed in the `API_KEYS` secret.
 * Fails closed (503) when no keys are configured.
 */
export const bearerAuth = createMiddleware<AppEnv>(async (c, next) => {
  const keys = commaList(c.env.API_KEYS);
  if (keys.length === 0) {
    throw new ProblemError("service-unavailable", {
      detail: "No API keys are configured for this deployment, so every /v1 request is refused.",
    });
  }
  const match = /^Bearer +(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "");
  if (!match?.[1]) {
    throw new ProblemError("unauthorized", {
      detail: "Send your API key as `Authorization: Bearer <key>`.",
      headers: challenge,
    });
  }
  const presented = match[1];
  let accepted = false;
  // Check every key (no early exit) so timing does not reveal which one matched.
  for (const key of keys) accepted = (await secretsEqual(presented, key)) || accepted;
  if (!accepted) {
    throw new ProblemError("unauthorized", {
      detail: "The API key is not valid.",
      headers: { "WWW-Authenticate": 'Bearer realm="tributary", error="invalid_token"' },
    });
  }
  c.set("caller", { keyId: (await sha256Hex(presented)).slice(0, 32) });
  await next();
});
