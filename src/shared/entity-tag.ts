import { sha256Hex } from "./digest";

/** The first 128 bits of the SHA-256 of `text`, in hex: the opaque part of every entity tag. */
export const tagOf = async (text: string) => (await sha256Hex(text)).slice(0, 32);

/**
 * The strong entity tag of a body that is not a list page: what a GET of a single resource carries, and what a
 * write's `If-Match` is compared with. A PATCH answer tags the resource's new state with it.
 * @example await strongEntityTag(JSON.stringify(toEndpoint(row))) // '"3f1c…"'
 */
export const strongEntityTag = async (body: string) => `"${await tagOf(body)}"`;
