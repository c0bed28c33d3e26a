import { perNamespace } from "../../cache/per-namespace";
import { sha256Hex } from "../../shared/digest";

/**
 * Finished list pages in isolate memory, ready to send: a repeated cached page is a lookup plus headers, not a
 * walk, signed cursors and a serialization. An entry is only as fresh as the oldest upstream read it was built from,
 * and only as valid as the cache generations of the listings it read (an invalidation drops it), exactly as the
 * listing cache decides for each read. Bounded by bytes, least recently used out first.
 */
export interface ReadyPage {
  body: string;
  etag: string;
  link: string | null;
  /** The oldest upstream fetch the page was built from (unix ms): its Age. */
  fetchedAt: number;
  /** Until when every read it was built from is fresh (unix ms). */
  freshUntil: number;
  /** The cache generations of the listings it read, as [generation key, value]. */
  generations: [string, string][];
}

const MAX_BYTES = 8 * 1024 * 1024;
/** A namespace's ready pages, least recently used first, and the bytes their bodies hold. */
const readyPagesOf = perNamespace(() => ({ pages: new Map<string, ReadyPage>(), bytes: 0 }));

/**
 * Who asks for what: the caller's key id, any pass-through upstream credential (hashed), and the URL. Two callers
 * never share a page, since cursors are bound to the caller.
 */
export async function readyPageKey(tenant: string, credentials: (string | undefined)[], url: URL): Promise<string> {
  const own = credentials.some((c) => c !== undefined) ? await sha256Hex(credentials.join("\u0000")) : "";
  return `${tenant}|${own}|${url.pathname}${url.search}`;
}

/** A ready page still fresh and valid at `now`, given the generations this isolate currently knows. */
export function findReadyPage(
  kv: KVNamespace,
  key: string,
  now: number,
  generation: (key: string) => string | undefined,
): ReadyPage | undefined {
  const ready = readyPagesOf(kv);
  const page = ready.pages.get(key);
  if (!page) return undefined;
  if (page.freshUntil <= now || page.generations.some(([k, g]) => generation(k) !== g)) {
    ready.pages.delete(key);
    ready.bytes -= page.body.length;
    return undefined;
  }
  ready.pages.delete(key);
  ready.pages.set(key, page);
  return page;
}

/** Forgets a page, e.g. once a `no-cache` request refreshed what it was built from. */
export function dropReadyPage(kv: KVNamespace, key: string) {
  const ready = readyPagesOf(kv);
  const page = ready.pages.get(key);
  if (page) ready.bytes -= page.body.length;
  ready.pages.delete(key);
}

export function keepReadyPage(kv: KVNamespace, key: string, page: ReadyPage) {
  const ready = readyPagesOf(kv);
  const old = ready.pages.get(key);
  if (old) ready.bytes -= old.body.length;
  ready.pages.delete(key);
  ready.pages.set(key, page);
  ready.bytes += page.body.length;
  for (const [k, p] of ready.pages) {
    if (ready.bytes <= MAX_BYTES) break;
    ready.pages.delete(k);
    ready.bytes -= p.body.length;
  }
}
