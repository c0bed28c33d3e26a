import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { configOf } from "../../config";
import type { Named } from "../../connections/resolve";
import { feedWalk } from "../../feeds/walk";
import type { AppEnv } from "../../http/app-env";
import { tenantOf } from "../../http/auth";
import { listResponse } from "../../http/list-response";
import { serveListing } from "../../http/listing";
import type { Lane, Verdict } from "../../paging/lanes";
import type { Filters } from "../../paging/listing";
import { beforeTime } from "../../paging/order";
import { upstreamCredential } from "../../providers/credentials";
import { defaultFeedSources } from "../../providers/default-sources";
import { eightByEightStatusFilter, versionOf } from "../../providers/eightbyeight/source";
import { openReader } from "../../providers/readers";
import { oneFilter } from "../../schemas/filters";
import type { Run } from "../../schemas/run";
import { canonicalFeedSources, parseFeedSource, type SourceKey } from "../../schemas/sources";
import { ProblemError } from "../../shared/problem";
import type { Credential } from "../../upstream/credential";
import { expectCall } from "../../upstream/scope";
import { sentFilters } from "../filters";
import { readCredentials, readEachCredential } from "../read-credentials";
import type { ListRunsRoute } from "./runs.routes";

/** The facade's share of the filters: what an upstream could not apply, checked item by item. */
function facadeFilter(filters: Filters): ((run: Run) => Verdict) | undefined {
  const status = oneFilter(filters, "status");
  const after = oneFilter(filters, "created_after");
  const before = oneFilter(filters, "created_before");
  if (!status && !after && !before) return undefined;
  return (run) => {
    if (after && run.created_at <= after) return "stop"; // newest first: nothing later can match
    if (before && run.created_at >= before) return "skip";
    return status && run.status !== status ? "skip" : "keep";
  };
}

/** The reader of a lane known to fail before any call (its connection is invalid): every read is refused with it. */
const refusedReader = (problem: ProblemError) => ({ read: () => Promise.reject(problem) });

/**
 * One lane per feed source, each read with its own credential (its connection's, or the request's); each provider
 * applies what it can of the filters itself. With `partial`, a source whose connection is invalid fails its own lane
 * (named in `page.errors`, no upstream call) instead of the page.
 */
async function feedLanes(
  c: Context<AppEnv>,
  filters: Filters,
  where: Named,
  partial: boolean,
  firstPage: boolean,
): Promise<Lane<Run>[]> {
  const specs = filters.source as string[];
  const keys = specs.map((spec) => parseFeedSource(spec) as SourceKey);
  const credentials = partial ? await readEachCredential(c, keys, where) : await readCredentials(c, keys, where);
  const deps = { env: c.env, cache: c.get("cache") };
  const lanes = laneOf(keys, specs, credentials, filters, deps);
  // A first page reads every source once: their accounts' budgets are asked for those calls at once.
  if (firstPage)
    await Promise.all(
      keys.map((key, i) => {
        const credential = credentials[i];
        return credential && !(credential instanceof ProblemError) && !lanes[i]?.empty
          ? expectCall(key.provider, credential)
          : undefined;
      }),
    );
  return lanes;
}

/** The lanes of `keys`, each opened with its own credential (or refused with its connection's problem). */
function laneOf(
  keys: SourceKey[],
  specs: string[],
  credentials: (Credential | ProblemError)[],
  filters: Filters,
  deps: { env: Env; cache: AppEnv["Variables"]["cache"] },
): Lane<Run>[] {
  const filter = facadeFilter(filters);
  const before = oneFilter(filters, "created_before");
  const status = oneFilter(filters, "status");
  return keys.map((key, i) => {
    const spec = specs[i] as string;
    const credential = credentials[i] as Credential | ProblemError;
    if (credential instanceof ProblemError) return { name: spec, open: () => refusedReader(credential) };
    if (key.provider === "inkit") {
      // The feed's `inkit` is Inkit's runs.
      const runs = { ...key, listing: "runs" } as const;
      return { name: spec, open: () => openReader(runs, deps, { credential }), filter };
    }
    const sent: Filters = {};
    if (status && status in eightByEightStatusFilter) sent.status = status;
    const after = oneFilter(filters, "created_after");
    if (after) sent.started_from = after;
    if (before) sent.started_to = before;
    return {
      name: spec,
      open: (pin, version) => openReader(key, deps, { credential, filters: sent, pin, version }),
      pinnable: true,
      versionOf: versionOf as (run: Run) => string | null,
      filter,
      // 8x8 never reports these statuses: the lane is empty and costs no call.
      empty: status === "pending" || status === "failed",
    };
  });
}

/**
 * A first page reads every source once: a feed with more sources than the deployment's subrequest limit would fail
 * there, and one with more than `FEED_FIRST_PAGE_SOURCES` would spend more CPU than the plan allows one invocation, so
 * either is refused at once, saying why and what to do. Later pages read only the sources that contribute.
 */
function withinLimit(lanes: Lane<Run>[], env: Env, firstPage: boolean, param: "source" | "feed"): Lane<Run>[] {
  const { subrequestLimit: limit, feedFirstPageSources } = configOf(env);
  const reads = lanes.filter((lane) => !lane.empty).length;
  if (!firstPage || (reads <= limit && reads <= feedFirstPageSources)) return lanes;
  if (reads <= limit)
    throw new ProblemError("too-many-sources", {
      detail: `This feed has ${reads} sources and its first page reads each of them, but a first page may read at most ${feedFirstPageSources} here (FEED_FIRST_PAGE_SOURCES: each read costs CPU, and at 20 a first page fits the 10 ms of CPU per invocation of the Workers free plan). Use at most ${feedFirstPageSources} sources, or raise FEED_FIRST_PAGE_SOURCES on a paid plan. Later pages read only the sources on them.`,
      errors: [
        {
          in: "query",
          name: param,
          message: `At most ${feedFirstPageSources} sources on a first page under this deployment's FEED_FIRST_PAGE_SOURCES.`,
        },
      ],
    });
  throw new ProblemError("subrequest-limit", {
    detail: `This feed has ${reads} sources and its first page reads each of them once, but one request may make at most ${limit} upstream calls here (SUBREQUEST_LIMIT: Workers allow 50 subrequests per request on the free plan, 10,000 on the paid plan). Use at most ${limit} sources, or raise SUBREQUEST_LIMIT on a paid plan.`,
    errors: [
      { in: "query", name: param, message: `At most ${limit} sources under this deployment's subrequest limit.` },
    ],
  });
}

export const listRuns: RouteHandler<ListRunsRoute, AppEnv> = async (c) => {
  const { limit, cursor, partial, source, feed, ...query } = c.req.valid("query");
  const creds = { inkit: upstreamCredential(c, "inkit"), "8x8": upstreamCredential(c, "8x8") };
  // Where a walk's sources were named, for a problem about one of their connections.
  const where: Named = feed ? { in: "query", name: "feed" } : { in: source ? "query" : "cursor", name: "source" };
  // A saved feed's walk binds its id and a digest of its sources; its lanes are the stored sources, read every page.
  const saved = await feedWalk(c.env, tenantOf(c), { feed, source, cursor });
  const sent = { ...sentFilters(query), ...saved?.sent };
  if (source !== undefined) sent.source = canonicalFeedSources(Array.isArray(source) ? source : [source], "query");
  const defaults: Filters = saved ? {} : { source: defaultFeedSources(c.env) };
  const sources = (filters: Filters) => (saved ? { ...filters, source: saved.sources() } : filters);
  const { body, headers } = await serveListing<Run>(c, {
    route: "runs",
    sent,
    defaults,
    limit,
    cursor,
    // Bound to both upstream credentials in use.
    credential: {
      value: `${creds.inkit.value}|${creds["8x8"].value}`,
      passThrough: creds.inkit.passThrough || creds["8x8"].passThrough,
    },
    lanes: async (filters) =>
      withinLimit(
        await feedLanes(c, sources(filters), where, partial === "true", !cursor),
        c.env,
        !cursor,
        feed ? "feed" : "source",
      ),
    // Newest first: created_at descending, then provider ascending, then id descending.
    order: () => "desc",
    start: (filters) => (typeof filters.created_before === "string" ? beforeTime(filters.created_before) : null),
    partial: partial === "true",
  });
  return listResponse(c, { body, headers });
};
