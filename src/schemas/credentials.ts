import { z } from "@hono/zod-openapi";

const credentialHeader = (name: string, vendor: string, what: string) =>
  z
    .string()
    .min(1)
    .max(512)
    .optional()
    .openapi({
      param: { name, in: "header" },
      description: `Your own ${vendor} ${what}, used instead of the deployment's. If ${vendor} rejects it, the answer is 401.`,
    });

/** `X-Inkit-API-Token`: a caller's own Inkit credential (see src/providers/credentials.ts). */
export const inkitCredentialHeaderShape = {
  "x-inkit-api-token": credentialHeader("x-inkit-api-token", "Inkit", "API token"),
};

/** `X-8x8-Api-Key`: a caller's own 8x8 credential. */
export const eightByEightCredentialHeaderShape = {
  "x-8x8-api-key": credentialHeader("x-8x8-api-key", "8x8", "API key"),
};
