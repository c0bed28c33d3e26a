import type { Provider } from "../schemas/sources";
import type { Credential } from "../upstream/credential";

/** Request headers a caller may use to send its own upstream credential. */
export const passThroughHeaders: Record<Provider, string> = {
  inkit: "X-Inkit-API-Token",
  "8x8": "X-8x8-Api-Key",
};

/** The deployment's own credential for a provider: what background work reads with and invalidates. */
export const configuredCredential = (env: Env, provider: Provider): Credential => ({
  value: (provider === "inkit" ? env.INKIT_API_TOKEN : env.EIGHTBYEIGHT_API_KEY) ?? "",
  passThrough: false,
});

/** The credential to call `provider` with for a request: the caller's own if sent, else the configured one. */
export function upstreamCredential(
  c: { env: Env; req: { header(name: string): string | undefined } },
  provider: Provider,
): Credential {
  const sent = c.req.header(passThroughHeaders[provider])?.trim();
  return sent ? { value: sent, passThrough: true } : configuredCredential(c.env, provider);
}
