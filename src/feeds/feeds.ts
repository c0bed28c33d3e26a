import type { Feed } from "../schemas/feed";
import { sha256Hex } from "../shared/digest";
import { strongEntityTag } from "../shared/entity-tag";
import { newId } from "../shared/ids";
import { isoMicros } from "../shared/time";
import { type AnswerStatements, noAnswer } from "../storage/answer-statements";
import { type FeedRow, insertFeed } from "./store";

/** The API shape of a feed row. */
export function toFeed(row: FeedRow): Feed {
  return {
    id: row.id,
    description: row.description,
    sources: JSON.parse(row.sources) as string[],
    created_at: row.created_at,
  };
}

/** The strong entity tag of a feed: the `ETag` its GET carries, compared with `If-Match` on DELETE. */
export const feedTag = (row: FeedRow) => strongEntityTag(JSON.stringify(toFeed(row)));

// Every page of a saved feed's walk binds its sources' digest: a busy isolate hashes each feed's sources once.
const digests = new Map<string, Promise<string>>();

/**
 * A short digest of a feed's sources, bound into the cursors of walks over it (with the feed's id) in place of the
 * sources themselves: 16 hex digits, whatever the number of sources.
 * @example await sourcesDigest(["inkit", "8x8:acme-ops/3f6c…"]) // "9c1f0a7e3b2d4c6e"
 */
export function sourcesDigest(sources: readonly string[]): Promise<string> {
  const text = JSON.stringify(sources);
  let digest = digests.get(text);
  if (digest === undefined) {
    digest = sha256Hex(text).then((hex) => hex.slice(0, 16));
    if (digests.size >= 1_000) digests.clear();
    digests.set(text, digest);
  }
  return digest;
}

/** Saves a feed owned by `tenant`; `sources` are canonical (see `canonicalFeedSources`). */
export async function createFeed(
  db: D1Database,
  tenant: string,
  fields: { sources: string[]; description: string | null },
  answer: AnswerStatements<FeedRow> = noAnswer,
): Promise<FeedRow> {
  const row: FeedRow = {
    id: newId("feed"),
    tenant,
    description: fields.description,
    sources: JSON.stringify(fields.sources),
    created_at: isoMicros(Date.now()),
  };
  await insertFeed(db, row, await answer(row));
  return row;
}
