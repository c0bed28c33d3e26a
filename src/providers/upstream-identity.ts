import { type Provider, providerNames } from "../schemas/sources";
import { passThroughHeaders } from "./credentials";
import { precompiled } from "./validate";

/**
 * What the upstream client needs to know of a provider, from the catalog: its name in problems, the header a caller
 * passes its own credential in, and how bodies are validated. Injected, so upstream/ depends on no provider module.
 */
export const upstreamIdentity = (provider: Provider) => ({
  provider,
  name: providerNames[provider],
  passThroughHeader: passThroughHeaders[provider],
  validator: precompiled,
});
