import type { TributaryClient } from "./client.js";
import { type ItemOf, type PageOf, pages, paginate } from "./paginate.js";
import { unwrap } from "./problem.js";
import type { RetryOptions } from "./retry.js";
import type { components, operations } from "./schema.js";

/** A saved feed: a set of merged-feed sources walked by id (`GET /v1/runs?feed={id}`). */
export type Feed = components["schemas"]["Feed"];

type RunsParameters = operations["listRuns"]["parameters"];

/** The first request of a feed walk: the merged feed's filters and headers, without `source` or `feed`. */
export interface FeedWalkInit {
  params?: {
    query?: Omit<NonNullable<RunsParameters["query"]>, "source" | "feed">;
    header?: RunsParameters["header"];
  };
}

/** Sources to save as a new feed before walking it. */
export interface NewFeed {
  sources: string[];
  description?: string;
  /** Sent as `Idempotency-Key`; by default the client sends a fresh one per call (kept across its own retries). */
  idempotencyKey?: string;
}

export interface FeedWalkOptions extends RetryOptions {
  /** Called with the feed a walk saved (given `sources`), before its first page: keep its id to walk it again. */
  onFeed?: (feed: Feed) => void;
}

/**
 * Saves a set of sources as a feed (`POST /v1/feeds`), with an `Idempotency-Key`, so a retry after a lost answer
 * still saves one feed. Sources are `inkit` or `8x8:{account_id}/{definition_id}`; the answer has them canonical.
 * @example const feed = await saveFeed(client, { sources: ["inkit", "8x8:acme-ops/3f6c…"], description: "support" })
 */
export async function saveFeed(client: TributaryClient, feed: NewFeed, signal?: AbortSignal): Promise<Feed> {
  const { sources, description, idempotencyKey } = feed;
  return unwrap(
    client.POST("/v1/feeds", {
      body: { sources, ...(description === undefined ? {} : { description }) },
      params: { header: idempotencyKey === undefined ? {} : { "idempotency-key": idempotencyKey } },
      ...(signal ? { signal } : {}),
    }),
  );
}

/** `init` with the feed's id as the walk's only choice of sources. */
async function feedInit(
  client: TributaryClient,
  feed: string | NewFeed,
  init: FeedWalkInit | undefined,
  options: FeedWalkOptions,
) {
  let id = feed as string;
  if (typeof feed !== "string") {
    const saved = await saveFeed(client, feed, options.signal);
    options.onFeed?.(saved);
    id = saved.id;
  }
  return { ...init, params: { ...init?.params, query: { ...init?.params?.query, feed: id } } };
}

/**
 * Every run of a merged feed over a saved feed, newest first, as `paginate` walks `GET /v1/runs`: the URL and the
 * cursors carry the feed's id, however many sources it has. Give a saved feed's id, or `{ sources }` to save them as
 * a new feed first (`onFeed` tells you its id; the feed stays saved until you delete it).
 * @example
 * for await (const run of paginateFeed(client, { sources: definitions.map((d) => `8x8:acme-ops/${d}`) })) …
 * for await (const run of paginateFeed(client, "feed_01JD…", { params: { query: { status: "failed" } } })) …
 */
export async function* paginateFeed(
  client: TributaryClient,
  feed: string | NewFeed,
  init?: FeedWalkInit,
  options: FeedWalkOptions = {},
): AsyncGenerator<ItemOf<"/v1/runs">, void> {
  yield* paginate(client, "/v1/runs", await feedInit(client, feed, init, options), options);
}

/** Every page of a feed walk, as `pages` walks `GET /v1/runs`; the feed as for `paginateFeed`. */
export async function* feedPages(
  client: TributaryClient,
  feed: string | NewFeed,
  init?: FeedWalkInit,
  options: FeedWalkOptions = {},
): AsyncGenerator<PageOf<"/v1/runs">, void> {
  yield* pages(client, "/v1/runs", await feedInit(client, feed, init, options), options);
}
