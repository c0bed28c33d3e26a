import { ProblemError } from "../http/problem";

/** A source of the merged feed: all Inkit runs, or the runs of one 8x8 definition. */
export type FeedSource = { provider: "inkit" } | { provider: "8x8"; accountId: string; definitionId: string };

const SPEC =
  /^(?:inkit|8x8:([A-Za-z0-9._-]{1,128})\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}))$/;

export const FEED_SOURCE_PATTERN = SPEC.source;
export const MAX_FEED_SOURCES = 8;

/** Parses `inkit` or `8x8:{account_id}/{definition_id}`; null when malformed. */
export function parseFeedSource(spec: string): FeedSource | null {
  const m = SPEC.exec(spec.trim());
  if (!m) return null;
  return m[1] && m[2] ? { provider: "8x8", accountId: m[1], definitionId: m[2].toLowerCase() } : { provider: "inkit" };
}

export const feedSourceName = (s: FeedSource) =>
  s.provider === "inkit" ? "inkit" : `8x8:${s.accountId}/${s.definitionId}`;

/** The canonical, de-duplicated source list of a feed; bad specs are a 400 naming them. */
export function canonicalFeedSources(specs: string[], where: "query" | "config"): string[] {
  const bad = specs.filter((s) => parseFeedSource(s) === null);
  if (bad.length > 0) {
    const detail = `Each source must be \`inkit\` or \`8x8:{account_id}/{definition_id}\`; got ${bad.map((b) => JSON.stringify(b)).join(", ")}.`;
    if (where === "config")
      throw new ProblemError("service-unavailable", { detail: `DEFAULT_SOURCES is misconfigured. ${detail}` });
    throw new ProblemError("validation-error", {
      detail,
      errors: bad.map(() => ({ in: "query", name: "source", message: detail })),
    });
  }
  const names = [...new Set(specs.map((s) => feedSourceName(parseFeedSource(s) as FeedSource)))];
  if (names.length > MAX_FEED_SOURCES) {
    throw new ProblemError("validation-error", {
      detail: `At most ${MAX_FEED_SOURCES} sources per feed.`,
      errors: [{ in: "query", name: "source", message: `At most ${MAX_FEED_SOURCES} sources.` }],
    });
  }
  return names;
}
