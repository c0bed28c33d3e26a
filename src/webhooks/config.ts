import { intVar, optionalVars as optional } from "../env";

/** Webhook tunables, read from vars with defaults. */
export interface WebhookConfig {
  /** How many of each watched source's newest items change detection compares (`WEBHOOK_POLL_WINDOW`). */
  pollWindow: number;
  /** Per-attempt delivery timeout (`WEBHOOK_TIMEOUT_MS`). */
  deliveryTimeoutMs: number;
  /** Accept http and private addresses as endpoint URLs: local development and tests only. */
  allowInsecureUrls: boolean;
}

export function readWebhookConfig(env: Env): WebhookConfig {
  return {
    pollWindow: intVar(env, "WEBHOOK_POLL_WINDOW", 200, 1, 1000),
    deliveryTimeoutMs: intVar(env, "WEBHOOK_TIMEOUT_MS", 15_000, 100, 30_000),
    allowInsecureUrls: optional(env).ALLOW_INSECURE_WEBHOOK_URLS === "true",
  };
}

/** The AES key material for stored signing secrets; too short or missing means webhooks are unavailable. */
export function encryptionSecret(env: Env): string | null {
  const value = optional(env).WEBHOOK_ENCRYPTION_KEY ?? "";
  return value.length >= 32 ? value : null;
}
