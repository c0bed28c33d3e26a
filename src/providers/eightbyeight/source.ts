import { readConfig } from "../../env";
import type { Filters } from "../../paging/listing";
import type { Source } from "../../paging/source";
import { offsetModelSource } from "../../paging/window";
import type { EightByEightRunNormalized, RunStatus } from "../../schemas/run";
import type { Credential } from "../credentials";
import { canonicalRequest, type UpstreamDeps } from "../deps";
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

export type EightByEightStatusFilter = keyof typeof eightByEightStatusFilter;

/** Maps our filters to 8x8's query: it applies version, status and start-time bounds itself. */
function upstreamQuery(filters: Filters): Record<string, string> {
  const query: Record<string, string> = {};
  const one = (k: string) => (typeof filters[k] === "string" ? (filters[k] as string) : undefined);
  const version = one("version");
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

/** An offset-model Source over one 8x8 definition's workflow instances, with its filters bound. */
export function eightByEightSource(
  { env, cache }: UpstreamDeps,
  filters: Filters,
  credential: Credential,
): Source<EightByEightRunNormalized> {
  const config = readConfig(env);
  const client = eightByEightClient(env.EIGHTBYEIGHT_BASE_URL, credential, config.upstreamTimeoutMs);
  const path = `/api/v1/accounts/${encodeURIComponent(String(filters.account_id))}/definitions/${encodeURIComponent(String(filters.definition_id))}/workflows`;
  const query = upstreamQuery(filters);
  const scope = {
    provider: "8x8" as const,
    credential,
    resource: `8x8:${String(filters.account_id)}/${String(filters.definition_id)}`,
  };
  return offsetModelSource((offset, limit) => {
    const rangeQuery = { ...query, offset: String(offset), limit: String(limit) };
    return cache.read(scope, canonicalRequest(path, rangeQuery), "list", async () =>
      (await client.get(path, rangeQuery, EightByEightListSchema)).map(normalizeEightByEightInstance),
    );
  }, config.eightByEightMaxLimit);
}
