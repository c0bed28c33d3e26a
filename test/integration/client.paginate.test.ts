import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createTributaryClient,
  type ListPath,
  ProblemError,
  pages,
  paginate,
  paginateBackward,
  parseRetryAfter,
  unwrap,
} from "../../clients/typescript/src/index.js";
import document from "../../openapi/openapi.json";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { createApp } from "../../src/app";
import { inkitRunStatus } from "../../src/providers/inkit/normalize";
import { TEST_API_KEY } from "../setup/bindings";
import { inkitSim, resetSimulators } from "../support/simulator";
import { eightByEightCollection, inkitCollection, mergeTruth } from "../support/truth";
import { workerFetch } from "../support/worker";

const ORIGIN = "https://tributary.test";
const orders = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.orderNotifications;

/** The client under test, calling the worker's real fetch entry point; it records what it sent. */
function clientFor(options: { headers?: Record<string, string>; env?: Record<string, unknown> } = {}) {
  const sent: Request[] = [];
  const client = createTributaryClient({
    baseUrl: ORIGIN,
    apiKey: TEST_API_KEY,
    ...(options.headers ? { headers: options.headers } : {}),
    fetch: async (request) => {
      sent.push(request.clone());
      if (!options.env) return workerFetch(request);
      // A fresh app with some bindings overridden (a stub rate limiter), as test/support/worker.ts request does.
      const ctx = createExecutionContext();
      const res = await createApp().fetch(request, { ...env, ...options.env } as Env, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    },
  });
  return { client, sent };
}

/** A rate limiter binding that refuses the requests whose 1-based numbers are in `refused`. */
function stubLimiter(refused: (n: number) => boolean) {
  let n = 0;
  return { limit: async () => ({ success: !refused(++n) }) };
}

const ids = (items: { id: string }[]) => items.map((i) => i.id);

async function collect<T>(walk: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of walk) out.push(item);
  return out;
}

/**
 * tributary's own 429 says `Retry-After` = seconds to the end of its fixed window (10 s here): freeze the clock one
 * second before a window ends, so it says 1. Only Date is faked; the client's waits are real.
 */
function oneSecondBeforeWindowEnd() {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Math.floor(Date.now() / 10_000) * 10_000 + 9_000);
}

beforeEach(resetSimulators);
afterEach(() => {
  vi.useRealTimers();
});

describe("paginate", () => {
  it("walks a listing to the end and stops exactly when next_cursor is null", async () => {
    const truth = ids(await inkitCollection("workflow_batch").truth());
    const { client, sent } = clientFor();
    const walked = await collect(pages(client, "/v1/inkit/workflow-batches", { params: { query: { limit: 45 } } }));
    expect(walked.flatMap((p) => ids(p.data))).toEqual(truth);
    expect(walked.length).toBe(Math.ceil(truth.length / 45));
    expect(walked.slice(0, -1).every((p) => p.page.next_cursor !== null)).toBe(true);
    expect(walked.at(-1)?.page.next_cursor).toBeNull();
    // One request per page: nothing after the page whose next_cursor was null.
    expect(sent.length).toBe(walked.length);
    // Later requests send only the cursor: it carries the filters and the limit.
    expect(new URL(sent[1]?.url ?? "").searchParams.has("limit")).toBe(false);
  });

  it("walks the merged feed with repeated sources and a status filter, items typed", async () => {
    const [inkit, eightByEight] = await Promise.all([
      inkitSim.items<{ id: string; status: string }>({ kind: "run" }),
      eightByEightCollection(orders, 2).truth(),
    ]);
    const failed = new Set(inkit.items.filter((r) => inkitRunStatus(r.status) === "failed").map((r) => r.id));
    const truth = mergeTruth([await inkitCollection("run").truth(), eightByEight]).filter((i) => failed.has(i.id));
    expect(truth.length).toBeGreaterThan(100);
    const { client } = clientFor();
    const runs = await collect(
      paginate(client, "/v1/runs", {
        params: { query: { source: ["inkit", `8x8:acme-ops/${orders}`], status: "failed", limit: 100 } },
      }),
    );
    expect(ids(runs)).toEqual(ids(truth));
    expect(runs.every((r) => r.status === "failed" && r.provider === "inkit")).toBe(true);
  });

  it("walks backward with prev_cursor: the forward walk in reverse", async () => {
    const { client, sent } = clientFor();
    const path = "/v1/8x8/accounts/{account_id}/definitions/{definition_id}/runs" as const;
    const params = {
      path: { account_id: "acme-ops", definition_id: EIGHT_BY_EIGHT_DEFINITION_IDS.demo.smsKeywordRouter },
    };
    // Checked by the type check, never called: the route has required path parameters, so a walk needs them.
    // @ts-expect-error
    const _withoutPathParameters = () => pages(client, path);
    const forward = await collect(pages(client, path, { params: { ...params, query: { limit: 70 } } }));
    expect(forward.length).toBeGreaterThan(3);
    const last = forward.at(-1);
    const cursor = last?.page.prev_cursor;
    if (!cursor) throw new Error("the last page has no prev_cursor");
    sent.length = 0;
    const backward = await collect(paginateBackward(client, path, { params: { ...params, query: { cursor } } }));
    const expected = forward.slice(0, -1).flatMap((p) => ids(p.data));
    expect(ids(backward)).toEqual(expected.toReversed());
    expect(sent.length).toBe(forward.length - 1);
    expect(sent.every((r) => new URL(r.url).pathname.endsWith(`/${params.path.definition_id}/runs`))).toBe(true);
  });
});

describe("paginate under throttling", () => {
  it("an upstream 429 that outlasts tributary's own retries (a 503 with Retry-After) is waited out; the walk recovers", async () => {
    const truth = ids(await inkitCollection("document_batch").truth());
    const { client } = clientFor({ headers: { "Cache-Control": "no-cache" } });
    const retries: { status: number; delayMs: number }[] = [];
    const seen: string[] = [];
    let faulted = false;
    for await (const page of pages(
      client,
      "/v1/inkit/batches",
      { params: { query: { limit: 60 } } },
      { onRetry: (r) => retries.push(r) },
    )) {
      seen.push(...ids(page.data));
      if (!faulted) {
        // More 429s than tributary's UPSTREAM_MAX_ATTEMPTS (3): the next page fails once, then works.
        await inkitSim.fault({ status: 429, retry_after: 0, times: 3 });
        faulted = true;
      }
    }
    expect(seen).toEqual(truth);
    expect(retries).toEqual([{ status: 503, attempt: 1, delayMs: 1000 }]);
  });

  it("tributary's own rate limit (429 rate-limited, Retry-After) is waited out; the walk recovers", async () => {
    const truth = ids(await eightByEightCollection(orders, 2).truth()).slice(0, 90);
    oneSecondBeforeWindowEnd();
    const { client, sent } = clientFor({
      env: { RATE_LIMITER: stubLimiter((n) => n === 2), RATE_LIMIT_PERIOD_SECONDS: "10" },
    });
    const retries: { status: number; delayMs: number }[] = [];
    const runs: { id: string }[] = [];
    for await (const run of paginate(
      client,
      "/v1/8x8/accounts/{account_id}/definitions/{definition_id}/runs",
      { params: { path: { account_id: "acme-ops", definition_id: orders }, query: { limit: 30 } } },
      { onRetry: ({ status, delayMs }) => retries.push({ status, delayMs }) },
    )) {
      runs.push(run);
      if (runs.length === 90) break;
    }
    expect(ids(runs)).toEqual(truth);
    expect(retries).toEqual([{ status: 429, delayMs: 1000 }]);
    expect(sent.length).toBe(4);
  });

  it("a Retry-After longer than maxDelayMs ends the walk at once with the typed 429 problem", async () => {
    const { client, sent } = clientFor({ env: { RATE_LIMITER: stubLimiter(() => true) } });
    const retries: number[] = [];
    const error = await collect(
      paginate(client, "/v1/inkit/runs", {}, { maxDelayMs: 500, onRetry: ({ delayMs }) => retries.push(delayMs) }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).status).toBe(429);
    expect((error as ProblemError).slug).toBe("rate-limited");
    expect(Number((error as ProblemError).response?.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    // At once: no wait was started (onRetry comes just before each wait) and no second request was sent.
    expect(retries).toEqual([]);
    expect(sent.length).toBe(1);
  });

  it("maxRetries bounds the retries of one page", async () => {
    oneSecondBeforeWindowEnd();
    const { client, sent } = clientFor({
      env: { RATE_LIMITER: stubLimiter(() => true), RATE_LIMIT_PERIOD_SECONDS: "10" },
    });
    const error = await collect(paginate(client, "/v1/inkit/runs", {}, { maxRetries: 1 })).catch((e) => e);
    expect((error as ProblemError).status).toBe(429);
    expect(sent.length).toBe(2);
  });

  it("an AbortSignal cancels the walk during a Retry-After wait", async () => {
    // A 60 s window, the clock at its start: the 429 asks for a 60 s wait, twice the test's timeout, so the walk
    // can only end in time if the abort cuts the wait short.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Math.floor(Date.now() / 60_000) * 60_000);
    const { client, sent } = clientFor({
      env: { RATE_LIMITER: stubLimiter(() => true), RATE_LIMIT_PERIOD_SECONDS: "60" },
    });
    const controller = new AbortController();
    const events: string[] = [];
    const walk = collect(
      paginate(
        client,
        "/v1/inkit/runs",
        {},
        {
          maxDelayMs: 120_000,
          signal: controller.signal,
          onRetry: ({ delayMs }) => {
            events.push(`wait ${delayMs}`);
            controller.abort(new Error("stop"));
          },
        },
      ),
    ).catch((e: Error) => {
      events.push(`ended: ${e.message}`);
    });
    await walk;
    expect(events).toEqual(["wait 60000", "ended: stop"]);
    expect(sent.length).toBe(1);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-22T10:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Sun, 22 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Sun, 22 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe("problems as typed errors", () => {
  it("a failed page throws a ProblemError carrying the problem document", async () => {
    const { client } = clientFor();
    const error = await collect(
      paginate(client, "/v1/inkit/runs", { params: { query: { cursor: "k2.bm90LWEtY3Vyc29y.AAAA" } } }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ProblemError);
    const problem = (error as ProblemError).problem;
    expect(problem).toMatchObject({ type: "/problems/invalid-cursor", status: 400, title: expect.any(String) });
    expect(problem.request_id).toBe((error as ProblemError).response?.headers.get("X-Request-Id"));
  });

  it("unwrap returns a single GET's data or throws its problem", async () => {
    const { client } = clientFor();
    const [batch] = (await inkitSim.items({ kind: "document_batch" })).items;
    const got = await unwrap(
      client.GET("/v1/inkit/batches/{batch_id}", { params: { path: { batch_id: batch?.id ?? "" } } }),
    );
    expect(got.id).toBe(batch?.id);
    const missing = await unwrap(
      client.GET("/v1/inkit/batches/{batch_id}", { params: { path: { batch_id: "rb_none" } } }),
    ).catch((e) => e);
    expect((missing as ProblemError).status).toBe(404);
    expect((missing as ProblemError).slug).toBe("not-found");
    const unauthorized = createTributaryClient({
      baseUrl: ORIGIN,
      apiKey: "trib_wrong_key_0000000000000000",
      fetch: (r) => workerFetch(r),
    });
    const refused = await unwrap(unauthorized.GET("/v1/inkit/runs")).catch((e) => e);
    expect((refused as ProblemError).status).toBe(401);
  });
});

describe("the OpenAPI document declares the walk for SDK generators", () => {
  // Every list path the client can walk, by type: a new list operation makes this object fail to type-check.
  const walkable = {
    "/v1/runs": true,
    "/v1/inkit/runs": true,
    "/v1/inkit/workflow-batches": true,
    "/v1/inkit/batches": true,
    "/v1/8x8/accounts/{account_id}/definitions/{definition_id}/runs": true,
    "/v1/webhook-endpoints": true,
    "/v1/event-subscriptions": true,
    "/v1/feeds": true,
    "/v1/connections": true,
    "/v1/events": true,
    "/v1/events/{id}/attempts": true,
  } satisfies Record<ListPath, true>;

  // The event stream takes a cursor but never ends (its next_cursor is never null): followEvents follows it.
  const endless = ["/v1/event-stream"];

  it("every operation with a cursor parameter but the endless stream has x-speakeasy-pagination, and only those", () => {
    type Operation = { parameters?: { name: string; in: string }[]; "x-speakeasy-pagination"?: unknown };
    const operations = Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(
      ([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })),
    );
    const withCursor = operations.filter(
      ({ path, op }) => !endless.includes(path) && op.parameters?.some((p) => p.name === "cursor" && p.in === "query"),
    );
    const declared = operations.filter(({ op }) => op["x-speakeasy-pagination"] !== undefined);
    expect(declared.map((o) => o.path)).toEqual(withCursor.map((o) => o.path));
    expect(withCursor.map((o) => o.path).sort()).toEqual(Object.keys(walkable).sort());
    for (const { op } of declared) {
      expect(op["x-speakeasy-pagination"]).toEqual({
        type: "cursor",
        inputs: [{ name: "cursor", in: "parameters", type: "cursor" }],
        outputs: { nextCursor: "$.page.next_cursor", results: "$.data" },
      });
    }
  });
});
