import { configOf } from "../config";
import {
  canonicalFeedSources,
  formatSourceKey,
  INKIT_SOURCE_KEYS,
  parseFeedSource,
  type SourceKey,
} from "../schemas/sources";

/** The `DEFAULT_SOURCES` entries as written (`inkit` when unset). */
const defaultSourceEntries = (env: Env) => (configOf(env).defaultSources ?? "inkit").split(",").filter(Boolean);

/** The feed's default sources, canonical; a misconfigured setting is a 503 naming it. */
export const defaultFeedSources = (env: Env) => canonicalFeedSources(defaultSourceEntries(env), "config");

/**
 * The sources of an endpoint created without `sources`: every Inkit listing, plus the 8x8 definitions of
 * `DEFAULT_SOURCES` (entries that are not 8x8 definitions are skipped).
 */
export function defaultWatchedSources(env: Env): string[] {
  const eightByEight = defaultSourceEntries(env)
    .map(parseFeedSource)
    .filter((key): key is SourceKey => key?.provider === "8x8" && key.connection === undefined)
    .map(formatSourceKey);
  return [...new Set([...INKIT_SOURCE_KEYS, ...eightByEight])];
}
