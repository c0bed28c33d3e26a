import { beforeEach, describe, expect, it } from "vitest";
import {
  createTributaryClient,
  type PostRetryOptions,
  ProblemError,
  unwrap,
} from "../../clients/typescript/src/index.js";
import { TEST_API_KEY } from "../setup/bindings";
import { resetWebhookStore, rows } from "../support/webhooks";
import { workerFetch } from "../support/worker";

// The typed client makes every POST safe to retry: one Idempotency-Key per call, kept across its own retries.

const ORIGIN = "https://tributary.test";
const URL_OK = "http://127.0.0.1:9/hooks/client";

beforeEach(resetWebhookStore);

/**
 * A client over the worker whose transport can fail: `fail(n, request)` may throw (a lost connection) or answer in
 * the worker's place on the n-th request. Records every request sent.
 */
function clientWith(
  fail: (n: number, request: Request, forward: () => Promise<Response>) => Promise<Response | undefined> = async () =>
    undefined,
  postRetries: PostRetryOptions = { maxRetries: 3, maxDelayMs: 50 },
) {
  const sent: Request[] = [];
  const client = createTributaryClient({
    baseUrl: ORIGIN,
    apiKey: TEST_API_KEY,
    postRetries,
    fetch: async (request) => {
      sent.push(request.clone());
      return (await fail(sent.length, request, () => workerFetch(request))) ?? workerFetch(request);
    },
  });
  return { client, sent };
}

const keyOf = (r: Request) => r.headers.get("Idempotency-Key");

describe("the typed client's POSTs", () => {
  it("carry an Idempotency-Key, a new one per call; other methods carry none", async () => {
    const { client, sent } = clientWith();
    const a = await unwrap(client.POST("/v1/webhook-endpoints", { body: { url: URL_OK } }));
    await unwrap(client.POST("/v1/webhook-endpoints", { body: { url: URL_OK } }));
    await unwrap(client.POST("/v1/event-subscriptions", { body: {} }));
    await unwrap(client.GET("/v1/webhook-endpoints/{id}", { params: { path: { id: a.id } } }));
    await unwrap(
      client.PATCH("/v1/webhook-endpoints/{id}", { params: { path: { id: a.id } }, body: { description: "x" } }),
    );
    const keys = sent.map(keyOf);
    expect(keys.slice(0, 3).every((k) => /^[0-9a-f-]{36}$/.test(k ?? ""))).toBe(true);
    expect(new Set(keys.slice(0, 3)).size).toBe(3);
    expect(keys.slice(3)).toEqual([null, null]);
    expect(await rows("SELECT id FROM webhook_endpoints")).toHaveLength(2);
  });

  it("retried after a lost answer: the same key, the first answer replayed, one endpoint, the same secret", async () => {
    let first: Response | undefined;
    const { client, sent } = clientWith(async (n, _request, forward) => {
      if (n !== 1) return undefined;
      first = await forward(); // the worker ran it, but the answer never arrives
      throw new TypeError("network connection lost");
    });
    const created = await unwrap(client.POST("/v1/webhook-endpoints", { body: { url: URL_OK } }));
    expect(sent).toHaveLength(2);
    expect(keyOf(sent[1] as Request)).toBe(keyOf(sent[0] as Request));
    const lost = (await first?.json()) as { id: string; secret: string };
    expect(created).toMatchObject({ id: lost.id, secret: lost.secret });
    expect(await rows("SELECT id FROM webhook_endpoints")).toEqual([{ id: lost.id }]);
    // The body was sent whole every time.
    expect(await sent[1]?.json()).toEqual({ url: URL_OK });
  });

  it("waits out a 409 idempotency-key-in-use, a 503 and a 429 with the same key, then gets the answer", async () => {
    const problem = (status: number, type: string) =>
      new Response(JSON.stringify({ type: `/problems/${type}`, title: type, status, detail: type, request_id: null }), {
        status,
        headers: { "Content-Type": "application/problem+json", "Retry-After": "0" },
      });
    const answers: Record<number, Response> = {
      1: problem(409, "idempotency-key-in-use"),
      2: problem(503, "service-unavailable"),
      3: problem(429, "rate-limited"),
    };
    const retries: number[] = [];
    const { client, sent } = clientWith(async (n) => answers[n], {
      maxRetries: 3,
      maxDelayMs: 50,
      onRetry: ({ status }) => retries.push(status),
    });
    const sub = await unwrap(client.POST("/v1/event-subscriptions", { body: { description: "once" } }));
    expect(sub.description).toBe("once");
    expect(retries).toEqual([409, 503, 429]);
    expect(new Set(sent.map(keyOf)).size).toBe(1);
    expect(await rows("SELECT id FROM event_subscriptions")).toHaveLength(1);
  });

  it("keeps a key the caller chose, for the caller's own retries across calls", async () => {
    const { client, sent } = clientWith();
    const header = { "idempotency-key": "order-42-endpoint" };
    const a = await unwrap(client.POST("/v1/webhook-endpoints", { params: { header }, body: { url: URL_OK } }));
    const b = await client.POST("/v1/webhook-endpoints", { params: { header }, body: { url: URL_OK } });
    expect(sent.map(keyOf)).toEqual(["order-42-endpoint", "order-42-endpoint"]);
    expect(b.response.headers.get("Idempotent-Replayed")).toBe("true");
    expect(b.data).toEqual(a);
  });

  it("does not retry a refusal: a key reused with another body is a ProblemError at once", async () => {
    const { client, sent } = clientWith();
    const header = { "idempotency-key": "one-request" };
    await unwrap(client.POST("/v1/webhook-endpoints", { params: { header }, body: { url: URL_OK } }));
    const err = await unwrap(
      client.POST("/v1/webhook-endpoints", { params: { header }, body: { url: `${URL_OK}/other` } }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemError);
    expect((err as ProblemError).slug).toBe("idempotency-key-reused");
    expect(sent).toHaveLength(2);
  });

  it("gives up after maxRetries with the last answer, and maxRetries 0 sends once", async () => {
    const unavailable = () => new Response("{}", { status: 503, headers: { "Retry-After": "0" } });
    const busy = clientWith(async () => unavailable(), { maxRetries: 2, maxDelayMs: 50 });
    const res = await busy.client.POST("/v1/event-subscriptions", { body: {} });
    expect(res.response.status).toBe(503);
    expect(busy.sent).toHaveLength(3);
    const once = clientWith(async () => unavailable(), { maxRetries: 0, maxDelayMs: 50 });
    await once.client.POST("/v1/event-subscriptions", { body: {} });
    expect(once.sent).toHaveLength(1);
  });
});
