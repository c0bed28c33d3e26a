import type { Context } from "hono";
import { ProblemError } from "../shared/problem";

/**
 * Whether an `If-Match` value matches the current entity tag: `*`, or one of its tags by strong comparison (RFC 9110
 * §13.1.1, §8.8.3.2): a weak tag never matches.
 * @example ifMatchMatches('"a1", "b2"', '"b2"') // true
 */
export function ifMatchMatches(ifMatch: string, current: string): boolean {
  if (ifMatch.trim() === "*") return true;
  const tags = ifMatch.match(/(?:W\/)?"[^"]*"/g) ?? [];
  return tags.some((tag) => !tag.startsWith("W/") && tag === current);
}

/** The 412 of a write whose `If-Match` no longer holds, naming the current tag (in the body and in `ETag`). */
function preconditionFailed(what: string, current: string): ProblemError {
  return new ProblemError("precondition-failed", {
    detail: `If-Match does not match the current state of ${what}: it changed since you read it, and nothing was changed now. Its current tag is ${current}: GET it, reapply your change, and send that tag.`,
    headers: { ETag: current },
    extensions: { etag: current },
  });
}

/** What a conditional write needs of its resource. */
export interface Guarded<Row> {
  /** Names the resource in a 412, e.g. "webhook endpoint we_…". */
  what: string;
  /** The resource as it stands now; throws its own 404 when it is gone. */
  read: () => Promise<Row>;
  /** The strong entity tag of a state, equal to the `ETag` a GET of it carries. */
  tag: (row: Row) => Promise<string>;
}

/** How many times in all a write without a precondition is tried when other writes keep landing first. */
const UNCONDITIONAL_ATTEMPTS = 3;

/**
 * Runs a write under the request's `If-Match` (none, or `*`: the write happens unconditionally). The resource is
 * read and its tag compared; a mismatch is a 412 naming the current tag. `write(row, guarded)` must then change the
 * resource only if it is still exactly `row` (a compare-and-set in D1) and return null when it was not: another write
 * landed between the read and this one, and that is a 412 too. So a stale tag never overwrites a newer edit.
 * Without a precondition the last write wins: a `write(row, false)` that returns null (one that may only apply to
 * the state it read, such as a change of status, found another write landed first) is tried again on the resource as
 * it is now, whose read answers its own 404 if that write deleted it.
 *
 * @example const next = await guardedWrite(c, endpoint, (row, guarded) => updateEndpoint(db, row, patch, guarded))
 */
export async function guardedWrite<Row, Result>(
  c: Context,
  resource: Guarded<Row>,
  write: (row: Row, guarded: boolean) => Promise<Result | null>,
): Promise<Result> {
  const ifMatch = c.req.header("If-Match");
  const row = await resource.read();
  // `*` asks only that the resource exists, which reading it just showed.
  if (ifMatch === undefined || ifMatch.trim() === "*") return unconditionalWrite(resource, row, write);
  const current = await resource.tag(row);
  if (!ifMatchMatches(ifMatch, current)) throw preconditionFailed(resource.what, current);
  const done = await write(row, true);
  if (done !== null) return done;
  throw preconditionFailed(resource.what, await resource.tag(await resource.read()));
}

/** A write without a precondition, tried again on the current state while other writes land between read and write. */
async function unconditionalWrite<Row, Result>(
  resource: Guarded<Row>,
  row: Row,
  write: (row: Row, guarded: boolean) => Promise<Result | null>,
): Promise<Result> {
  let current = row;
  for (let attempt = 1; ; attempt++) {
    const done = await write(current, false);
    if (done !== null) return done;
    if (attempt === UNCONDITIONAL_ATTEMPTS)
      throw new ProblemError("service-unavailable", {
        detail: `${resource.what} kept changing while this write was applied (${attempt} tries), and nothing was changed now. Try again.`,
        headers: { "Retry-After": "1" },
      });
    current = await resource.read();
  }
}
