import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../http/app-env";
import { bearerAuth } from "../../http/auth";
import { verifyHexHmac } from "../../shared/hmac";
import { ProblemError } from "../../shared/problem";

/** Inbound pushes are small; anything bigger is refused before it is read or verified. */
export const inboundBodyLimit = bodyLimit({
  maxSize: 64 * 1024,
  onError: () => {
    throw new ProblemError("payload-too-large", { detail: "Inbound webhook bodies are limited to 64 KiB." });
  },
});

const notConfigured = (name: string) => `This inbound webhook is not configured (${name} is not set).`;

/**
 * Authenticates an Inkit webhook: `Inkit-Signature` must be the hex HMAC-SHA256 of the raw body keyed with
 * `INKIT_WEBHOOK_SECRET` (compared in constant time). Runs before the body is parsed or validated.
 */
export const inkitSignature = createMiddleware<AppEnv>(async (c, next) => {
  const secret = c.env.INKIT_WEBHOOK_SECRET;
  if (!secret) throw new ProblemError("service-unavailable", { detail: notConfigured("INKIT_WEBHOOK_SECRET") });
  const body = await c.req.arrayBuffer();
  if (!(await verifyHexHmac(secret, body, c.req.header("Inkit-Signature") ?? ""))) {
    throw new ProblemError("unauthorized", {
      detail: "Inkit-Signature is missing or does not match the body.",
    });
  }
  await next();
});

/** Authenticates an 8x8 HttpRequest step: `Authorization: Bearer <EIGHTBYEIGHT_INBOUND_SECRET>`, constant time. */
export const eightByEightBearer = bearerAuth({
  realm: "tributary-inbound",
  setting: (env) => env.EIGHTBYEIGHT_INBOUND_SECRET,
  tokens: (secret) => (secret ? [secret] : []),
  unconfigured: notConfigured("EIGHTBYEIGHT_INBOUND_SECRET"),
  missing: "Send the inbound secret as `Authorization: Bearer <secret>`.",
  invalid: "Send the inbound secret as `Authorization: Bearer <secret>`.",
});
