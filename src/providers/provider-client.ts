import { type Provider, providerNames } from "../schemas/sources";
import { type UpstreamClientOptions, upstreamClient } from "../upstream/client";
import type { Credential } from "../upstream/credential";
import { passThroughHeaders } from "./credentials";
import { precompiled } from "./validate";

/** What a provider's own client module decides: how the credential is sent, and which answers mean something. */
type ProviderRules = Pick<UpstreamClientOptions, "authHeaders" | "mapError">;

/**
 * The upstream client of a provider: its name in problems, the header a caller passes its own credential in and how
 * bodies are validated come from here (so upstream/ depends on no provider module); `rules` from the provider.
 * @example providerClient("inkit", env.INKIT_BASE_URL, credential, 8_000, { authHeaders, mapError })
 */
export function providerClient(
  provider: Provider,
  baseUrl: string,
  credential: Credential,
  timeoutMs: number,
  rules: ProviderRules,
) {
  return upstreamClient({
    provider,
    name: providerNames[provider],
    passThroughHeader: passThroughHeaders[provider],
    validator: precompiled,
    baseUrl,
    credential,
    timeoutMs,
    ...rules,
  });
}
