import type { PageInfo } from "../paging/listing";

/** RFC 8288 `Link` header with absolute next/prev URLs; the cursor carries filters and limit. */
export function linkHeader(url: URL, page: PageInfo): Record<string, string> {
  const link = (cursor: string, rel: string) =>
    `<${url.origin}${url.pathname}?cursor=${encodeURIComponent(cursor)}>; rel="${rel}"`;
  const links = [
    page.next_cursor && link(page.next_cursor, "next"),
    page.prev_cursor && link(page.prev_cursor, "prev"),
  ].filter(Boolean);
  return links.length > 0 ? { Link: links.join(", ") } : {};
}
