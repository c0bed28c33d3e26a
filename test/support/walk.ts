import { expect } from "vitest";
import { callJson } from "./worker";

export interface PageBody<T = { id: string; created_at: string }> {
  data: T[];
  page: {
    limit: number;
    has_more: boolean;
    next_cursor: string | null;
    prev_cursor: string | null;
    total: number | null;
  };
}

interface Walk {
  pages: PageBody[];
  ids: string[];
  /** The cursor that fetched each page (null for the first). */
  cursors: (string | null)[];
}

type LimitPlan = number | ((pageIndex: number) => number);

/**
 * Walks a listing forward from its first page by following `next_cursor`, asserting the contract of
 * every page on the way (has_more ⇔ next_cursor, prev_cursor null exactly on the first page).
 */
export async function walkForward(
  path: string,
  limit: LimitPlan,
  init: RequestInit & { auth?: string | false } = {},
  maxPages = 10_000,
  /** Runs between pages, e.g. to insert items upstream while the walk is under way. */
  between?: (pageIndex: number) => Promise<void>,
): Promise<Walk> {
  const walk: Walk = { pages: [], ids: [], cursors: [] };
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const n = typeof limit === "number" ? limit : limit(i);
    const sep = path.includes("?") ? "&" : "?";
    const url: string = cursor
      ? `${path.split("?")[0]}?cursor=${encodeURIComponent(cursor)}&limit=${n}`
      : `${path}${sep}limit=${n}`;
    const { res, body } = await callJson<PageBody>(url, init);
    expect(res.status, `${url} -> ${JSON.stringify(body).slice(0, 300)}`).toBe(200);
    expect(body.page.has_more).toBe(body.page.next_cursor !== null);
    expect(body.page.prev_cursor === null).toBe(i === 0);
    expect(body.page.limit).toBe(n);
    if (body.page.has_more) expect(body.data.length).toBe(n);
    walk.pages.push(body);
    walk.cursors.push(cursor);
    walk.ids.push(...body.data.map((item) => item.id));
    cursor = body.page.next_cursor;
    if (!cursor || walk.pages.length === maxPages) return walk;
    await between?.(i);
  }
  return walk;
}

/** Walks backward from a cursor by following `prev_cursor` until the first page; returns pages in walk order. */
export async function walkBackward(path: string, from: string, init: RequestInit = {}): Promise<PageBody[]> {
  const pages: PageBody[] = [];
  let cursor: string | null = from;
  while (cursor) {
    const { res, body }: { res: Response; body: PageBody } = await callJson<PageBody>(
      `${path.split("?")[0]}?cursor=${encodeURIComponent(cursor)}`,
      init,
    );
    expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    pages.push(body);
    cursor = body.page.prev_cursor;
  }
  return pages;
}
