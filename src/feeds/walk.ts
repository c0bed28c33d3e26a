import { configOf } from "../config";
import { cursorKeys, verifyCursor } from "../paging/cursor";
import type { Filters } from "../paging/listing";
import { ProblemError } from "../shared/problem";
import { missingStep } from "../storage/readiness";
import { sourcesDigest } from "./feeds";
import { findFeed } from "./store";

/** A walk of `GET /v1/runs` over a saved feed. */
interface FeedWalk {
  /** What the walk's cursors bind: the feed's id and a digest of its sources, never the sources themselves. */
  sent: Filters;
  /** The feed's sources, the walk's lanes; a 404 when the feed is gone (asked after the cursor was checked). */
  sources: () => string[];
}

/** The query parameters of `GET /v1/runs` that choose its sources. */
interface SourceChoice {
  feed?: string;
  source?: string | string[];
  cursor?: string;
}

/**
 * The saved feed a `GET /v1/runs` request walks: the one `feed` names, or else the one its cursor's walk was started
 * over (so later pages may omit `feed`, as any filter); null for a walk of inline `source`s. The feed is read from D1
 * on every page, so a deleted feed ends its walks: their next page is a 404 `not-found`. `feed` with `source` is a 400.
 *
 * @example const walk = await feedWalk(c.env, tenant, c.req.valid("query")) // then lanes from walk.sources()
 */
export async function feedWalk(env: Env, tenant: string, query: SourceChoice): Promise<FeedWalk | null> {
  if (query.feed !== undefined && query.source !== undefined) {
    const message = "Give either `feed` (a saved feed's id) or `source`, not both.";
    throw new ProblemError("validation-error", {
      detail: message,
      errors: [
        { in: "query", name: "feed", message },
        { in: "query", name: "source", message },
      ],
    });
  }
  const id = query.feed ?? (query.cursor === undefined ? null : await cursorFeed(env, query.cursor));
  if (id === null) return null;
  const step = await missingStep(env, ["DB"]);
  if (step !== null) throw new ProblemError("deployment-incomplete", { detail: step });
  const row = await findFeed(env.DB, tenant, id);
  if (row === null) {
    const detail =
      query.feed === undefined
        ? `The feed ${id} this cursor walks no longer exists: it was deleted. Save the sources again (POST /v1/feeds) and walk the new feed from its first page.`
        : `No feed ${id} belongs to your API key.`;
    return {
      sent: { feed: id },
      sources: () => {
        throw new ProblemError("not-found", { detail });
      },
    };
  }
  const sources = JSON.parse(row.sources) as string[];
  return { sent: { feed: id, feed_sources: await sourcesDigest(sources) }, sources: () => sources };
}

/**
 * The feed a cursor's walk reads, if it reads one: its `feed` filter. The cursor is verified here as the listing will
 * verify it (a modified or expired cursor is the same 400 either way), so no D1 read is spent on a forged one.
 */
async function cursorFeed(env: Env, cursor: string): Promise<string | null> {
  const keys = await cursorKeys(env.CURSOR_SECRET);
  const payload = await verifyCursor(cursor, keys, configOf(env).cursorTtlSeconds, Date.now());
  const feed = payload.f.feed;
  return typeof feed === "string" ? feed : null;
}
