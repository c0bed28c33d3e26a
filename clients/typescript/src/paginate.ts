import type { MaybeOptionalInit } from "openapi-fetch";
import type { TributaryClient } from "./client.js";
import { problemError } from "./problem.js";
import { backoff, parseRetryAfter, type RetryOptions, sleep } from "./retry.js";
import type { paths } from "./schema.js";

type JsonOk<Op> = Op extends { responses: { 200: { content: { "application/json": infer Body } } } } ? Body : never;
type GetOf<P extends keyof paths> = paths[P] extends { get: infer Op } ? Op : never;
type PageBody = { data: unknown[]; page: { next_cursor: string | null; prev_cursor: string | null } };

/**
 * The paths of every list operation: a GET answering `{data, page}` whose `next_cursor` becomes null at the end.
 * Not the event stream, which never ends (follow it with `followEvents`).
 */
export type ListPath = {
  [P in keyof paths]: [JsonOk<GetOf<P>>] extends [never]
    ? never
    : JsonOk<GetOf<P>> extends PageBody
      ? null extends JsonOk<GetOf<P>>["page"]["next_cursor"]
        ? P
        : never
      : never;
}[keyof paths];

/** One page of a list operation, as its 200 answers it. */
export type PageOf<P extends ListPath> = JsonOk<GetOf<P>>;

/** One item of a list operation. */
export type ItemOf<P extends ListPath> = PageOf<P> extends { data: (infer Item)[] } ? Item : never;

/** The request of a walk's first page: its query (filters, `limit`, or a `cursor` to start from), path and headers. */
export type ListInit<P extends ListPath> = MaybeOptionalInit<paths[P], "get">;

/** `init` is optional exactly when the operation has no required parameters (path parameters are required). */
type WalkArgs<P extends ListPath> =
  undefined extends ListInit<P>
    ? [init?: ListInit<P>, options?: RetryOptions]
    : [init: ListInit<P>, options?: RetryOptions];

type Direction = "next" | "prev";
type RawInit = { params?: { query?: Record<string, unknown> }; signal?: AbortSignal; [key: string]: unknown };
type RawGet = (path: string, init: RawInit) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/**
 * GETs one page, waiting out 429 and 503 as `Retry-After` asks, within the walk's bounds; returns the page and the
 * response it came in (for its headers).
 */
export async function getPage(
  client: TributaryClient,
  path: string,
  init: RawInit,
  options: RetryOptions,
): Promise<{ page: PageBody; response: Response }> {
  const { maxRetries = 4, maxDelayMs = 30_000, signal } = options;
  const get = client.GET as unknown as RawGet;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const { data, error, response } = await get(path, { ...init, ...(signal ? { signal } : {}) });
    if (response.ok) return { page: data as PageBody, response };
    const retryable = response.status === 429 || response.status === 503;
    const delayMs = parseRetryAfter(response.headers.get("Retry-After")) ?? backoff(attempt, maxDelayMs);
    if (!retryable || attempt > maxRetries || delayMs > maxDelayMs) throw problemError(response, error);
    options.onRetry?.({ status: response.status, attempt, delayMs });
    await sleep(delayMs, signal);
  }
}

async function* walk(
  client: TributaryClient,
  path: string,
  init: RawInit | undefined,
  options: RetryOptions = {},
  direction: Direction,
): AsyncGenerator<PageBody> {
  let request: RawInit = init ?? {};
  for (;;) {
    const { page } = await getPage(client, path, request, options);
    yield page;
    const cursor = direction === "next" ? page.page.next_cursor : page.page.prev_cursor;
    if (cursor === null) return;
    // The cursor carries the walk's filters and limit; path parameters and headers are sent again.
    request = { ...request, params: { ...request.params, query: { cursor } } };
  }
}

/**
 * Every page of a listing, following `page.next_cursor` until it is null.
 * @example for await (const page of pages(client, "/v1/inkit/runs", { params: { query: { limit: 100 } } })) …
 */
export function pages<P extends ListPath>(client: TributaryClient, path: P, ...args: WalkArgs<P>) {
  const [init, options] = args as [RawInit | undefined, RetryOptions | undefined];
  return walk(client, path, init, options, "next") as AsyncGenerator<PageOf<P>, void>;
}

/**
 * Every page from the requested one back to the first, following `page.prev_cursor` until it is null. Start it
 * with a cursor from a page you hold: `{ params: { query: { cursor: page.page.prev_cursor } } }`.
 */
export function pagesBackward<P extends ListPath>(client: TributaryClient, path: P, ...args: WalkArgs<P>) {
  const [init, options] = args as [RawInit | undefined, RetryOptions | undefined];
  return walk(client, path, init, options, "prev") as AsyncGenerator<PageOf<P>, void>;
}

/**
 * Every item of a listing, in the listing's order, page after page until `next_cursor` is null. Waits out 429 and
 * 503 as `Retry-After` asks (bounded by `maxRetries` and `maxDelayMs`); any other failure throws a ProblemError.
 * @example
 * for await (const run of paginate(client, "/v1/runs", { params: { query: { status: "failed" } } })) console.log(run.id);
 */
export async function* paginate<P extends ListPath>(
  client: TributaryClient,
  path: P,
  ...args: WalkArgs<P>
): AsyncGenerator<ItemOf<P>, void> {
  const [init, options] = args as [RawInit | undefined, RetryOptions | undefined];
  for await (const page of walk(client, path, init, options, "next")) yield* page.data as ItemOf<P>[];
}

/**
 * Every item from the requested page back to the start of the listing, in reverse order (each page's items
 * last to first), following `prev_cursor` until it is null.
 */
export async function* paginateBackward<P extends ListPath>(
  client: TributaryClient,
  path: P,
  ...args: WalkArgs<P>
): AsyncGenerator<ItemOf<P>, void> {
  const [init, options] = args as [RawInit | undefined, RetryOptions | undefined];
  for await (const page of walk(client, path, init, options, "prev")) yield* (page.data as ItemOf<P>[]).toReversed();
}
