import { sha256Hex } from "../http/digest";
import { fromBase64Url } from "../paging/base64url";

const decoder = new TextDecoder();

/** A cursor reduced to what it points at: its signing key id and payload without the snapshot time `s`. */
function cursorContent(token: string): { content: string; snapshot: number } | null {
  const [kid, body] = token.split(".");
  if (kid === undefined || body === undefined) return null;
  try {
    const { s, ...rest } = JSON.parse(decoder.decode(fromBase64Url(body))) as { s?: unknown };
    return typeof s === "number" ? { content: `${kid}.${JSON.stringify(rest)}`, snapshot: s } : null;
  } catch {
    return null;
  }
}

const tagOf = async (text: string) => (await sha256Hex(text)).slice(0, 32);

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
    return `"${await tagOf(body)}"`;
  }
  const page = (parsed as { page?: unknown } | null)?.page;
  if (typeof page !== "object" || page === null || !("next_cursor" in page)) return `"${await tagOf(body)}"`;

  const halfLife = Math.max(1, cursorTtlSeconds) * 500;
  let epoch: number | null = null;
  const reduce = (value: unknown) => {
    const cursor = typeof value === "string" ? cursorContent(value) : null;
    if (!cursor) return value;
    epoch = Math.floor(cursor.snapshot / halfLife);
    return cursor.content;
  };
  const { next_cursor, prev_cursor } = page as { next_cursor?: unknown; prev_cursor?: unknown };
  const normalized = JSON.stringify({
    ...(parsed as object),
    page: { ...page, next_cursor: reduce(next_cursor), prev_cursor: reduce(prev_cursor) },
  });
  return `W/"${await tagOf(`${epoch ?? "-"}|${normalized}`)}"`;
}

/** Whether an If-None-Match header matches an ETag by weak comparison (RFC 9110 §13.1.2). */
export function ifNoneMatchMatches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => opaque(tag) === opaque(etag));
}
