import type { Provider } from "../http/upstream";

/** An upstream credential and whether the caller supplied it (pass-through) or it is the configured secret. */
export interface Credential {
  value: string;
  passThrough: boolean;
}

/** Request headers a caller may use to send its own upstream credential. */
export const passThroughHeaders: Record<Provider, string> = {
  inkit: "X-Inkit-API-Token",
  "8x8": "X-8x8-Api-Key",
};

/** The credential to call `provider` with: the caller's own if sent, else the configured secret. */
export function upstreamCredential(
  c: { env: Env; req: { header(name: string): string | undefined } },
  provider: Provider,
): Credential {
  const sent = c.req.header(passThroughHeaders[provider])?.trim();
  if (sent) return { value: sent, passThrough: true };
  const configured = provider === "inkit" ? c.env.INKIT_API_TOKEN : c.env.EIGHTBYEIGHT_API_KEY;
  return { value: configured ?? "", passThrough: false };
}
