import { ProblemError } from "../shared/problem";

export type Provider = "inkit" | "8x8";

export const providerNames: Record<Provider, string> = { inkit: "Inkit", "8x8": "8x8" };

/**
 * The one vocabulary of sources: a source is one upstream listing tributary can read and watch.
 * Written `inkit:runs`, `inkit:workflow-batches`, `inkit:batches` or `8x8:{account_id}/{definition_id}`; the feed
 * (`GET /v1/runs`) writes Inkit's runs as plain `inkit`, and every other place accepts that as `inkit:runs`.
 * Read through a tenant's own connection, a source ends in `@{connection_id}` (`inkit:runs@conn_…`); without one it
 * is read with the deployment's own credentials.
 * A source's canonical name is also the `resource` of its cache entries, so invalidation and reads always agree.
 */
export type SourceKey =
  | { provider: "inkit"; listing: InkitListingName; connection?: string }
  | { provider: "8x8"; accountId: string; definitionId: string; connection?: string };

export const INKIT_LISTINGS = ["runs", "workflow-batches", "batches"] as const;

export type InkitListingName = (typeof INKIT_LISTINGS)[number];

/** An 8x8 account id as sources and connections spell it. */
export const ACCOUNT_ID_PATTERN = "[A-Za-z0-9._-]{1,128}";

const ACCOUNT = ACCOUNT_ID_PATTERN;

const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

/** A connection's id: `conn_` and 26 Crockford base32 digits (see shared/ids.ts). */
export const CONNECTION_ID = "conn_[0-9A-HJKMNP-TV-Z]{26}";

/** The optional connection part of a source. */
const THROUGH = `(?:@(${CONNECTION_ID}))?`;

/** The one parser: `inkit`, `inkit:<listing>` or `8x8:<account_id>/<definition_id>`, then `@<connection_id>` or not. */
const SOURCE = new RegExp(`^(?:inkit(?::(${INKIT_LISTINGS.join("|")}))?|8x8:(${ACCOUNT})\\/(${UUID}))${THROUGH}$`);

/** Patterns for the request schemas (OpenAPI), built from the same parts as the parser. */
export const FEED_SOURCE_PATTERN = `^(?:inkit|8x8:(${ACCOUNT})\\/(${UUID}))${THROUGH}$`;

export const SOURCE_KEY_PATTERN = `^(inkit:(${INKIT_LISTINGS.join("|")})|8x8:${ACCOUNT}\\/${UUID})${THROUGH}$`;

export const SOURCE_KEY_INPUT_PATTERN = `^(inkit|inkit:(${INKIT_LISTINGS.join("|")})|8x8:${ACCOUNT}\\/${UUID})${THROUGH}$`;

/** Parses a source in any accepted spelling (no surrounding spaces); null when it names none. */
export function parseSourceKey(text: string): SourceKey | null {
  const m = SOURCE.exec(text);
  if (!m) return null;
  const through = m[4] ? { connection: m[4] } : {};
  if (m[2] && m[3]) return { provider: "8x8", accountId: m[2], definitionId: m[3].toLowerCase(), ...through };
  return { provider: "inkit", listing: (m[1] as InkitListingName | undefined) ?? "runs", ...through };
}

/** `@<connection_id>` when the source is read through a connection, else nothing. */
const throughPart = (key: SourceKey) => (key.connection ? `@${key.connection}` : "");

/**
 * The canonical name: `inkit:runs`, …, `8x8:<account_id>/<definition_id>` (definition ids lower-cased by parsing),
 * with `@<connection_id>` when read through a connection.
 */
export const formatSourceKey = (key: SourceKey): string =>
  (key.provider === "inkit" ? `inkit:${key.listing}` : `8x8:${key.accountId}/${key.definitionId}`) + throughPart(key);

/** The canonical name of a source written in any accepted spelling, or null. */
export function canonicalSourceKey(text: string): string | null {
  const key = parseSourceKey(text);
  return key ? formatSourceKey(key) : null;
}

/**
 * Cache resource names: the unit of invalidation, equal to the source's canonical name.
 * @alias
 */
export const resourceName = formatSourceKey;

export const INKIT_SOURCE_KEYS = INKIT_LISTINGS.map((listing) => formatSourceKey({ provider: "inkit", listing }));

// ---- The merged feed: Inkit runs (written `inkit`) and 8x8 definitions.

/**
 * Sources an inline walk (`?source=`, repeated) may name: as many as keep its URL and its cursor short (the cursor
 * carries its filters). Larger sets are named once as a saved feed.
 */
export const MAX_INLINE_SOURCES = 16;

/** Sources a saved feed (`POST /v1/feeds`) may name: more than fit in a URL as `source=` parameters. */
export const MAX_SAVED_FEED_SOURCES = 100;

/**
 * A feed source as written in `?source=` and `DEFAULT_SOURCES`: exactly `inkit` or an 8x8 definition, each with a
 * connection or not.
 */
export function parseFeedSource(text: string): SourceKey | null {
  const trimmed = text.trim();
  const key = parseSourceKey(trimmed);
  return key?.provider === "8x8" || /^inkit(@|$)/.test(trimmed) ? key : null;
}

/** The feed's spelling of a source: `inkit` for Inkit runs. */
export const feedSourceName = (key: SourceKey) =>
  key.provider === "inkit" ? `inkit${throughPart(key)}` : formatSourceKey(key);

/** Where a feed's sources were written: the field a 400 names. */
const SOURCES_FIELD = {
  query: { in: "query", name: "source" },
  body: { in: "body", name: "sources" },
} as const;

/**
 * The canonical, de-duplicated source list of a feed; bad specs are a 400 naming them (a 503 from config). At most
 * `max` sources: `MAX_INLINE_SOURCES` for `source=`, `MAX_SAVED_FEED_SOURCES` for a saved feed.
 */
export function canonicalFeedSources(
  specs: string[],
  where: "query" | "body" | "config",
  max: number = MAX_INLINE_SOURCES,
): string[] {
  const field = SOURCES_FIELD[where === "config" ? "query" : where];
  const bad = specs.filter((s) => parseFeedSource(s) === null);
  if (bad.length > 0) {
    const detail = `Each source must be \`inkit\` or \`8x8:{account_id}/{definition_id}\`, with \`@{connection_id}\` or not; got ${bad.map((b) => JSON.stringify(b)).join(", ")}.`;
    if (where === "config")
      throw new ProblemError("service-unavailable", { detail: `DEFAULT_SOURCES is misconfigured. ${detail}` });
    throw new ProblemError("validation-error", {
      detail,
      errors: bad.map(() => ({ ...field, message: detail })),
    });
  }
  if (where === "config" && specs.some((s) => parseFeedSource(s)?.connection !== undefined))
    throw new ProblemError("service-unavailable", {
      detail:
        "DEFAULT_SOURCES is misconfigured: it may not name a connection (`@conn_…`), which belongs to one API key.",
    });
  const names = [...new Set(specs.map((s) => feedSourceName(parseFeedSource(s) as SourceKey)))];
  if (names.length > max) {
    throw new ProblemError("validation-error", {
      detail: `At most ${max} sources${max === MAX_INLINE_SOURCES ? ` inline; name more (up to ${MAX_SAVED_FEED_SOURCES}) once as a saved feed: POST /v1/feeds, then GET /v1/runs?feed={id}` : " per feed"}.`,
      errors: [{ ...field, message: `At most ${max} sources.` }],
    });
  }
  return names;
}
