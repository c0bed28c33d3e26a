/**
 * The credentials the simulators accept, and the ids of the fixed 8x8
 * definitions. Each simulator knows two tenants so that cross-tenant
 * isolation can be tested: "demo" (the big dataset) and "other" (a small,
 * different one). Copy these into the worker's `.dev.vars` or import them in tests.
 */

export const TENANTS = ["demo", "other"] as const;
export type Tenant = (typeof TENANTS)[number];

/** Inkit: sent as the `X-Inkit-API-Token` header. */
export const INKIT_API_TOKENS = {
  demo: "sim_inkit_demo_token",
  other: "sim_inkit_other_token",
} as const satisfies Record<Tenant, string>;

/** 8x8: sent as `Authorization: Bearer <key>`. */
export const EIGHT_BY_EIGHT_API_KEYS = {
  demo: "sim_8x8_demo_key",
  other: "sim_8x8_other_key",
} as const satisfies Record<Tenant, string>;

/** The one 8x8 account each key belongs to. */
export const EIGHT_BY_EIGHT_ACCOUNT_IDS = {
  demo: "acme-ops",
  other: "globex-support",
} as const satisfies Record<Tenant, string>;

/** Fixed so tests and docs can name them; see simulator/README.md for their contents. */
export const EIGHT_BY_EIGHT_DEFINITION_IDS = {
  demo: {
    /** versions 1 (300 instances) and 2 (1,300 instances, latest) */
    orderNotifications: "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14",
    /** version 1 only, 400 instances */
    smsKeywordRouter: "b7e41d9a-2c58-4f3b-a6d1-0e9c8f7a5b23",
    /** versions 1, 2 and 3, 60 instances each */
    appointmentReminders: "5d2f8c7b-91e4-4a6d-b3c0-7f1e2a9d4c68",
    /** version 1, never triggered: lists as [] */
    chatEscalation: "e9a03b6c-4d17-4e85-8f2a-c61b5d7e9f30",
  },
  other: {
    /** version 1, 30 instances */
    supportTriage: "1c8e5f2a-7b39-4d60-a4e1-9f3c0b6d2a75",
  },
} as const;

export const SIM_INKIT_DEMO_TOKEN = INKIT_API_TOKENS.demo;
export const SIM_8X8_DEMO_KEY = EIGHT_BY_EIGHT_API_KEYS.demo;

/**
 * The tenant a credential belongs to, or undefined for an unknown one. A credential may carry a `~tag` suffix:
 * the same tenant under a credential of its own, so a client can keep separate caches (the bench walks each walk
 * against a cold listing cache this way).
 */
export function tenantForCredential(
  credentials: Record<Tenant, string>,
  value: string | undefined,
): Tenant | undefined {
  const base = value?.split("~")[0];
  return TENANTS.find((tenant) => credentials[tenant] === base);
}

export function isTenant(value: unknown): value is Tenant {
  return TENANTS.some((tenant) => tenant === value);
}
