// A poll-only subscription is a webhook endpoint without a URL: what it watches and its description come from the
// same body fields, with the same defaults.
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env";
import { defaultWatchedSources } from "../providers/default-sources";
import type { SubscribableEventType } from "../schemas/events";
import { canonicalSourceKey } from "../schemas/sources";
import { checkSourceConnections } from "./read-credentials";

/** The body fields an endpoint and a subscription share, in a create or an update. */
interface WatchBody {
  description?: string | null;
  event_types?: SubscribableEventType[] | null;
  sources?: string[];
}

/** Source keys as stored: canonical, each once (`inkit` and `inkit:runs` are one source). */
const canonicalSources = (keys: readonly string[]) => [...new Set(keys.map((k) => canonicalSourceKey(k) ?? k))];

/** Where sources are written in a body: the field a problem about one of their connections names. */
const SOURCES = { in: "body", name: "sources" } as const;

/**
 * What a new endpoint or subscription watches: absent fields mean every event type and the default sources. A
 * connection a source names must be the caller's (see `checkSourceConnections`).
 */
export async function watchOf(c: Context<AppEnv>, body: WatchBody) {
  const sources = body.sources ? canonicalSources(body.sources) : defaultWatchedSources(c.env);
  await checkSourceConnections(c, sources, SOURCES);
  return { description: body.description ?? null, eventTypes: body.event_types ?? null, sources };
}

/** The same fields of an update: only the ones it sends. */
export async function watchPatchOf(c: Context<AppEnv>, body: WatchBody) {
  const sources = body.sources === undefined ? undefined : canonicalSources(body.sources);
  if (sources) await checkSourceConnections(c, sources, SOURCES);
  return { description: body.description, eventTypes: body.event_types, sources };
}
