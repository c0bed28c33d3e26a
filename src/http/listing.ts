import type { Context } from "hono";
import { configOf } from "../config";
import { cursorKeys } from "../paging/cursor";
import { type LaneFailures, type ListRequest, readListing, type WalkContext } from "../paging/listing";
import type { Keyed } from "../paging/order";
import { ProblemError } from "../shared/problem";
import type { AppEnv } from "./app-env";
import { linkHeader } from "./link-header";

/** An upstream failure is a problem document already (upstream/ throws them); anything else is a bug. */
const upstreamFailures: LaneFailures = {
  describe: (error) =>
    error instanceof ProblemError ? { status: error.status, type: error.type, detail: error.init.detail } : null,
  blame: (error, source) => {
    if (error instanceof ProblemError) error.init.extensions = { ...error.init.extensions, source };
  },
};

/** What the walk engine needs of this request, as plain values. */
async function walkContext(c: Context<AppEnv>): Promise<WalkContext> {
  const cache = c.get("cache");
  return {
    keys: await cursorKeys(c.env.CURSOR_SECRET),
    cursorTtlSeconds: configOf(c.env).cursorTtlSeconds,
    tenant: c.get("caller").tenant,
    cache: { shared: cache.shared, fetchedAt: () => cache.fetchedAt() },
    now: Date.now(),
    failures: upstreamFailures,
    callRoom: configOf(c.env).subrequestLimit,
  };
}

/**
 * Serves one page of a listing for this request: the walk engine's `readListing` with the request's plain inputs.
 * Its failures (`WalkError`) become problem documents in the app's error handler (http/walk-problems.ts).
 * @example const { body, headers } = await serveListing(c, { route: "inkit.runs", ... })
 */
export async function serveListing<T extends Keyed>(c: Context<AppEnv>, req: ListRequest<T>) {
  const body = await readListing(await walkContext(c), req);
  return { body, headers: linkHeader(new URL(c.req.url), body.page) };
}
