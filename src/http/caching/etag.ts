import { peekCursor } from "../../paging/cursor";
import { strongEntityTag, tagOf } from "../../shared/entity-tag";
import { joinListBody, type ListBodyParts } from "./served-body";

/**
 * The entity tag of a GET body.
 *
 * A list page (`{data, page}`) gets a weak tag over its content: the items, `page` and each cursor reduced to
 * the positions it carries. The cursors' snapshot time `s` is left out, because it moves whenever the upstream
 * is asked again (every `Cache-Control: no-cache` revalidation) even when the data did not change. In its place
 * is the half-lifetime epoch of `s`: the tag changes at least once per half cursor lifetime, so a body a client
 * keeps revalidating never holds cursors with less than half their lifetime left.
 *
 * Any other body gets a strong tag over its bytes.
 * @example await entityTag('{"data":[],"page":{…}}', 86_400) // 'W/"3f1c…"'
 */
export async function entityTag(body: string, cursorTtlSeconds: number): Promise<string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return strongEntityTag(body);
  }
  const page = (parsed as { page?: unknown } | null)?.page;
  if (!isListPage(page)) return strongEntityTag(body);
  return listPageTag(page, cursorTtlSeconds, (reduced) => JSON.stringify({ ...(parsed as object), page: reduced }));
}

/**
 * `entityTag(body)` for a list page's body given in its parts (see served-body.ts): only `page` is parsed, and the
 * rest of the body is hashed as it is. The tag is the same, because JSON that JSON.stringify wrote serializes back to
 * itself once parsed.
 * @example await listPageEntityTag(serializeListBody(body).parts, 86_400)
 */
export async function listPageEntityTag(parts: ListBodyParts, cursorTtlSeconds: number): Promise<string> {
  const page: unknown = JSON.parse(parts.page);
  if (!isListPage(page)) return strongEntityTag(joinListBody(parts));
  return listPageTag(page, cursorTtlSeconds, (reduced) =>
    joinListBody({ head: parts.head, page: JSON.stringify(reduced) }),
  );
}

function isListPage(page: unknown): page is { next_cursor?: unknown; prev_cursor?: unknown } {
  return typeof page === "object" && page !== null && "next_cursor" in page;
}

/** The weak tag of a list page whose `page` member is `page`; `normalized` serializes it with `page` replaced. */
async function listPageTag(
  page: { next_cursor?: unknown; prev_cursor?: unknown },
  cursorTtlSeconds: number,
  normalized: (reducedPage: object) => string,
): Promise<string> {
  const halfLife = Math.max(1, cursorTtlSeconds) * 500;
  let epoch: number | null = null;
  const reduce = (value: unknown) => {
    const cursor = typeof value === "string" ? peekCursor(value) : null;
    if (!cursor) return value;
    epoch = Math.floor(cursor.snapshot / halfLife);
    return cursor.content;
  };
  const { next_cursor, prev_cursor } = page;
  const text = normalized({ ...page, next_cursor: reduce(next_cursor), prev_cursor: reduce(prev_cursor) });
  return `W/"${await tagOf(`${epoch ?? "-"}|${text}`)}"`;
}

/** Whether an If-None-Match header matches an ETag by weak comparison (RFC 9110 §13.1.2). */
export function ifNoneMatchMatches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => opaque(tag) === opaque(etag));
}
