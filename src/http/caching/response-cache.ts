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
export function readyPageKey(
  tenant: string,
  credentials: (string | undefined)[],
  url: URL | string,
): string | Promise<string> {
  const target = typeof url === "string" ? pathAndQuery(url) : `${url.pathname}${url.search}`;
  // Most callers pass no credential: their key needs no digest, and no wait for one.
  if (credentials.every((c) => c === undefined)) return `${tenant}||${target}`;
  return sha256Hex(credentials.join("\u0000")).then((own) => `${tenant}|${own}|${target}`);
}

/**
 * `pathname + search` of a request's URL, as `new URL(url)` gives them, without parsing it again: a request's URL is
 * already parsed and serialized (absolute, its path starting at the first `/` after the authority); a fragment,
 * which a request never sends, is dropped.
 * @example pathAndQuery("https://t.example/v1/inkit/runs?limit=50") // "/v1/inkit/runs?limit=50"
 */
function pathAndQuery(url: string): string {
  const path = url.indexOf("/", url.indexOf("//") + 2);
  if (path === -1) return "/";
  const fragment = url.indexOf("#", path);
  const target = fragment === -1 ? url.slice(path) : url.slice(path, fragment);
  // An empty query (`/runs?`) has no search, as in URL.
  return target.indexOf("?") === target.length - 1 ? target.slice(0, -1) : target;
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
