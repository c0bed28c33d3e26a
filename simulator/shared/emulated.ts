import type { Context, Handler, Hono, MiddlewareHandler } from "hono";
import { type FaultStore, injectFaults, type VendorErrorResponse } from "../faults";
import { enforceRateLimits, type RateLimits } from "../rate-limit";
import type { RequestCounters } from "./counters";
import type { SimulatorEnv } from "./env";

interface EmulatedRouteDeps {
  counters: RequestCounters;
  faults: FaultStore;
  rateLimits: RateLimits;
  authenticate: MiddlewareHandler<SimulatorEnv>;
  /** The credential a request sent, as its auth header carries it ("" when none): counted per credential. */
  credentialOf: (c: Context<SimulatorEnv>) => string;
  vendorError: VendorErrorResponse;
}

/**
 * Registers one emulated GET route. Every request is counted first, by route and by credential (faulted, limited and
 * rejected ones too), then its credential's rate limit and faults apply (before auth, like a gateway in front
 * of the API would), then credentials are checked.
 */
export function emulatedGet(
  app: Hono<SimulatorEnv>,
  pattern: string,
  deps: EmulatedRouteDeps,
  handler: Handler<SimulatorEnv>,
): void {
  const count: MiddlewareHandler<SimulatorEnv> = async (c, next) => {
    const url = new URL(c.req.url);
    deps.counters.record(`GET ${pattern}`, `GET ${url.pathname}${url.search}`, deps.credentialOf(c));
    await next();
  };
  const limit = enforceRateLimits(deps.rateLimits, deps.credentialOf, deps.vendorError);
  app.get(pattern, count, limit, injectFaults(deps.faults, deps.vendorError), deps.authenticate, handler);
}
