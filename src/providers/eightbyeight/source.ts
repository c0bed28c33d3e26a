import { canonicalRequest, type UpstreamDeps } from "../../cache/upstream-deps";
import { configOf } from "../../config";
import { staged } from "../../observability/stages";
import { upToSecond } from "../../paging/lane-codec";
import type { Filters } from "../../paging/listing";
import type { OffsetReader } from "../../paging/offset-reader";
import { offsetModelReader } from "../../paging/reader-models";
import { oneFilter } from "../../schemas/filters";
import type { EightByEightRunNormalized, RunStatus } from "../../schemas/run";
import { resourceName } from "../../schemas/sources";
import type { Credential } from "../../upstream/credential";
import { eightByEightClient } from "./client";
import { normalizeEightByEightInstance } from "./normalize";
import { EightByEightListSchema } from "./schemas";

/** Our normalized statuses that 8x8 can filter by, and its own names for them. */
export const eightByEightStatusFilter = {
  running: "Runnable",
  suspended: "Suspended",
  completed: "Complete",
  terminated: "Terminated",
} as const satisfies Partial<Record<RunStatus, string>>;

type EightByEightStatusFilter = keyof typeof eightByEightStatusFilter;

/** Maps our filters to 8x8's query: it applies version, status and start-time bounds itself. */
function upstreamQuery(filters: Filters): Record<string, string> {
  const query: Record<string, string> = {};
  const one = (name: string) => oneFilter(filters, name);
  const version = one("version") ?? one("bound_version");
  const status = one("status") as EightByEightStatusFilter | undefined;
  const from = one("started_from");
  // The walk's pin (its head when it began) bounds the start time too, so head inserts cannot shift offsets.
  const to = [one("started_to"), one("pin")].filter((t): t is string => t !== undefined).sort()[0];
  if (version) query.version = version;
  if (status) query.status = eightByEightStatusFilter[status];
  if (from) query.startTimeFrom = from;
  if (to) query.startTimeTo = to;
  return query;
}

/**
 * The filters of one lane of a walk: its pin (the walk's head) and the version it started on. 8x8's default
 * listing follows a definition's latest version, so a walk is bound to the version it listed first.
 */
export function bind(filters: Filters, pin: string | null, version: string | null): Filters {
  // Rounded up to the second, as cursors keep heads (see paging/lane-codec.ts): the first page's read is cached under
  // the same pinned form that later pages ask for.
  return { ...filters, ...(pin ? { pin: upToSecond(pin) } : {}), ...(version ? { bound_version: version } : {}) };
}

export const versionOf = (run: EightByEightRunNormalized): string | null =>
  run.workflow.version === null ? null : String(run.workflow.version);

/** An offset-model OffsetReader over one 8x8 definition's workflow instances, with its filters bound. */
export function eightByEightReader(
  { env, cache }: UpstreamDeps,
  filters: Filters,
  credential: Credential,
): OffsetReader<EightByEightRunNormalized> {
  const config = configOf(env);
  const client = eightByEightClient(env.EIGHTBYEIGHT_BASE_URL, credential, config.upstreamTimeoutMs);
  const path = `/api/v1/accounts/${encodeURIComponent(String(filters.account_id))}/definitions/${encodeURIComponent(String(filters.definition_id))}/workflows`;
  const query = upstreamQuery(filters);
  const scope = {
    provider: "8x8" as const,
    credential,
    resource: resourceName({
      provider: "8x8",
      accountId: String(filters.account_id),
      definitionId: String(filters.definition_id),
    }),
  };
  const fetchRange = (rangeQuery: Record<string, string>, keep = true) =>
    cache.read(
      scope,
      canonicalRequest(path, rangeQuery),
      "list",
      async () => {
        const list = await client.get(path, rangeQuery, EightByEightListSchema);
        return staged("parse and normalize", () => list.map(normalizeEightByEightInstance));
      },
      false,
      keep,
    );
  // A walk's first page reads unpinned; later pages read pinned to its head and bound to its version. At the walk's
  // start both list the same items, so what the first page read is cached under the pinned form too, and the second
  // page does not ask 8x8 again for what the first one already had.
  let pinned: Record<string, string> | null = null;
  const unpinned = oneFilter(filters, "pin") === undefined;
  const read = async (offset: number, limit: number, keep = true) => {
    const range = { offset: String(offset), limit: String(limit) };
    const items = await fetchRange({ ...query, ...range }, keep);
    const head = items[0];
    if (unpinned && offset === 0 && head) pinned = upstreamQuery(bind(filters, head.created_at, versionOf(head)));
    if (pinned && keep) await cache.seed(scope, canonicalRequest(path, { ...pinned, ...range }), "list", items);
    return items;
  };
  return offsetModelReader(
    read,
    config.eightByEightMaxLimit,
    // A tie group is one start time: both time bounds at it select exactly the group, whatever the offsets.
    async (createdAt) => {
      const items = await fetchRange({
        ...query,
        startTimeFrom: createdAt,
        startTimeTo: createdAt,
        offset: "0",
        limit: String(config.eightByEightMaxLimit),
      });
      return items.length < config.eightByEightMaxLimit ? items.filter((i) => i.created_at === createdAt) : null;
    },
  );
}
