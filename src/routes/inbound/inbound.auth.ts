import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { ProblemError } from "../../http/problem";
import { secretsEqual, verifyHexHmac } from "../../webhooks/crypto";

/** Inbound pushes are small; anything bigger is refused before it is read or verified. */
export const inboundBodyLimit = bodyLimit({
  maxSize: 64 * 1024,
  onError: () => {
    throw new ProblemError("payload-too-large", { detail: "Inbound webhook bodies are limited to 64 KiB." });
  },
});

const notConfigured = (name: string) =>
  new ProblemError("service-unavailable", { detail: `This inbound webhook is not configured (${name} is not set).` });

/**
 * Authenticates an Inkit webhook: `Inkit-Signature` must be the hex HMAC-SHA256 of the raw body keyed with
 * `INKIT_WEBHOOK_SECRET` (compared in constant time). Runs before the body is parsed or validated.
 */
export const inkitSignature = createMiddleware<AppEnv>(async (c, next) => {
  const secret = c.env.INKIT_WEBHOOK_SECRET;
  if (!secret) throw notConfigured("INKIT_WEBHOOK_SECRET");
  const body = await c.req.arrayBuffer();
  if (!(await verifyHexHmac(secret, body, c.req.header("Inkit-Signature") ?? ""))) {
    throw new ProblemError("unauthorized", {
      detail: "Inkit-Signature is missing or does not match the body.",
    });
  }
  await next();
});

/** Authenticates an 8x8 HttpRequest step: `Authorization: Bearer <EIGHTBYEIGHT_INBOUND_SECRET>`, constant time. */
export const eightByEightBearer = createMiddleware<AppEnv>(async (c, next) => {
  const secret = c.env.EIGHTBYEIGHT_INBOUND_SECRET;
  if (!secret) throw notConfigured("EIGHTBYEIGHT_INBOUND_SECRET");
  const presented = /^Bearer +(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "")?.[1] ?? "";
  if (!(await secretsEqual(presented, secret))) {
    throw new ProblemError("unauthorized", {
      detail: "Send the inbound secret as `Authorization: Bearer <secret>`.",
      headers: { "WWW-Authenticate": 'Bearer realm="tributary-inbound"' },
    });
  }
  await next();
});
