import { chain } from "../chain";
import { entityTags } from "./entity-tags";
import { freshness } from "./freshness";
import { listingCache } from "./listing-cache";
import { notModified } from "./not-modified";
import { readyPages } from "./ready-pages";

/**
 * Gives each request its own view of the listing cache, then describes how the answer was served:
 * `Cache-Status`, `Age` and `Cache-Control`, an `ETag` on every successful GET (weak on list pages, see
 * entityTag), and 304 for a matching `If-None-Match`. `Cache-Control: no-cache` on the request refreshes from
 * the upstream; a refresh that finds the same data keeps the ETag, so a client's revalidation still gets a 304.
 * `no-store` reads from the upstream and writes nothing to the cache.
 *
 * In order: the request's cache view; the 304, last on the way out; ready pages, sent before the route or kept after
 * it; the freshness headers; the ETag, first on the way out, reading the body once.
 * @example app.use("/v1/*", cacheLayer)
 */
export const cacheLayer = chain(listingCache, notModified, readyPages, freshness, entityTags);
