// A poll-only subscription is a webhook endpoint without a URL: what it watches and its description come from the
// same body fields, with the same defaults.
import { defaultWatchedSources } from "../providers/default-sources";
import type { SubscribableEventType } from "../schemas/events";
import { canonicalSourceKey } from "../schemas/sources";

/** The body fields an endpoint and a subscription share, in a create or an update. */
interface WatchBody {
  description?: string | null;
  event_types?: SubscribableEventType[] | null;
  sources?: string[];
}

/** Source keys as stored: canonical, each once (`inkit` and `inkit:runs` are one source). */
const canonicalSources = (keys: readonly string[]) => [...new Set(keys.map((k) => canonicalSourceKey(k) ?? k))];

/** What a new endpoint or subscription watches: absent fields mean every event type and the default sources. */
export const watchOf = (env: Env, body: WatchBody) => ({
  description: body.description ?? null,
  eventTypes: body.event_types ?? null,
  sources: body.sources ? canonicalSources(body.sources) : defaultWatchedSources(env),
});

/** The same fields of an update: only the ones it sends. */
export const watchPatchOf = (body: WatchBody) => ({
  description: body.description,
  eventTypes: body.event_types,
  sources: body.sources === undefined ? undefined : canonicalSources(body.sources),
});
