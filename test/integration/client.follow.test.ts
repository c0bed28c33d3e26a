import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import {
  createTributaryClient,
  type FollowEventsOptions,
  type FollowedEvent,
  followEvents,
  ProblemError,
} from "../../clients/typescript/src/index.js";
import { createApp } from "../../src/app";
import { eventBody } from "../../src/events/model";
import { recordAndQueue } from "../../src/events/record";
import type { EventRow } from "../../src/events/store";
import { sha256Hex } from "../../src/shared/digest";
import { newId } from "../../src/shared/ids";
import { isoMicros } from "../../src/shared/time";
import { TEST_API_KEY } from "../setup/bindings";
import { resetWebhookStore, type WebhookEnv, webhookEnv } from "../support/webhooks";

// followEvents (clients/typescript/src/follow.ts) against the worker: it follows GET /v1/event-stream, waits at the
// end as Retry-After asks, resumes with next_cursor, and stops quietly when aborted. No wall-clock assertions: the
// waits show in how many requests were sent.

const app = createApp();
let w: WebhookEnv;
let tenant = "";

/** A client calling the worker with `w`'s bindings; `intercept` may answer a request instead (by its number). */
function clientFor(intercept?: (n: number) => Response | undefined) {
  const sent: URL[] = [];
  const client = createTributaryClient({
    baseUrl: "https://tributary.test",
    apiKey: TEST_API_KEY,
    fetch: async (request) => {
      sent.push(new URL(request.url));
      const canned = intercept?.(sent.length);
      if (canned) return canned;
      const ctx = createExecutionContext();
      const res = await app.fetch(request, w.env, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    },
  });
  return { client, sent };
}

/** Commits `n` ping events of the test key in one transaction; returns their ids in commit order. */
async function commit(n: number): Promise<string[]> {
  const now = isoMicros(Date.now());
  const events: EventRow[] = Array.from({ length: n }, () => {
    const id = newId("evt");
    const object = { endpoint_id: "we_x", url: "https://hooks.example.com/x", message: "m" };
    return {
      id,
      tenant,
      type: "ping",
      source: null,
      object_id: "we_x",
      created_at: now,
      sequence: null,
      payload: eventBody("ping", now, object, null, null),
    };
  });
  await recordAndQueue(w.env, { events, now });
  return events.map((e) => e.id);
}

/** Follows until `stop` says so (checked after each event) or the iteration ends. */
async function follow(
  client: ReturnType<typeof clientFor>["client"],
  options: FollowEventsOptions,
  stop: (got: FollowedEvent[]) => boolean | Promise<boolean>,
) {
  const got: FollowedEvent[] = [];
  for await (const item of followEvents(client, options)) {
    got.push(item);
    if (await stop(got)) break;
  }
  return got;
}

beforeEach(async () => {
  await resetWebhookStore();
  tenant = (await sha256Hex(TEST_API_KEY)).slice(0, 32);
  w = webhookEnv({ EVENT_STREAM_POLL_SECONDS: "1" });
});

describe("followEvents", () => {
  it("reads the stream oldest first, waits as Retry-After asks at the end, then yields what came meanwhile", async () => {
    const first = await commit(3);
    const later: string[] = [];
    const { client, sent } = clientFor();
    // pollIntervalMs would wait an hour: the stream's Retry-After (1 s) is what the follower waits.
    const got = await follow(client, { limit: 2, pollIntervalMs: 3_600_000 }, async (items) => {
      if (items.length === 3) later.push(...(await commit(2)));
      return items.length === 5;
    });
    expect(got.map((g) => g.event.id)).toEqual([...first, ...later]);
    // Page 1 (2 events), page 2 (1 event: the end), then after the wait the 2 new ones.
    expect(sent.length).toBe(3);
    expect(sent.map((u) => u.searchParams.has("cursor"))).toEqual([false, true, true]);
    expect(sent[0]?.searchParams.get("limit")).toBe("2");
  });

  it("yields a cursor to persist per event: resuming with it never skips what follows", async () => {
    const ids = await commit(5);
    const { client } = clientFor();
    const cursors: string[] = [];
    const got = await follow(client, { limit: 2, onCursor: (c) => cursors.push(c) }, (items) => items.length === 5);
    expect(got.map((g) => g.event.id)).toEqual(ids);
    // Pages [1, 2], [3, 4], [5]: only a page's last event carries its next_cursor; the first page had none. (The
    // loop stopped before the last page's onCursor.)
    const [c1, c2] = cursors;
    expect(cursors).toHaveLength(2);
    expect(got.map((g) => g.cursor)).toEqual([null, c1, c1, c2, expect.any(String)]);
    for (const [i, { cursor }] of got.entries()) {
      if (cursor === null) continue;
      // Up to the stream's end: what resuming with this event's cursor yields (after the last event, nothing).
      const controller = new AbortController();
      const last = i === ids.length - 1;
      const resumed = await follow(
        client,
        { cursor, signal: controller.signal, onCursor: () => last && controller.abort() },
        (items) => items.at(-1)?.event.id === ids.at(-1),
      );
      const yielded = resumed.map((r) => r.event.id);
      // Every event after this one, perhaps preceded by some of its page: never a gap.
      expect(yielded).toEqual(ids.slice(ids.length - yielded.length));
      expect(yielded.length).toBeGreaterThanOrEqual(ids.length - i - 1);
    }
  });

  it("waits out a 503 as its Retry-After asks, and carries on", async () => {
    const ids = await commit(3);
    const unavailable = new Response(
      JSON.stringify({
        type: "/problems/upstream-unavailable",
        title: "t",
        status: 503,
        detail: "d",
        request_id: null,
      }),
      { status: 503, headers: { "Content-Type": "application/problem+json", "Retry-After": "1" } },
    );
    const { client, sent } = clientFor((n) => (n === 2 ? unavailable : undefined));
    const retries: { status: number; delayMs: number }[] = [];
    const got = await follow(
      client,
      { limit: 2, onRetry: ({ status, delayMs }) => retries.push({ status, delayMs }) },
      (items) => items.length === 3,
    );
    expect(got.map((g) => g.event.id)).toEqual(ids);
    expect(retries).toEqual([{ status: 503, delayMs: 1000 }]);
    expect(sent.length).toBe(3);
  });

  it("an AbortSignal ends the iteration quietly, also during the wait at the end of the stream", async () => {
    w = webhookEnv({ EVENT_STREAM_POLL_SECONDS: "3600" });
    const ids = await commit(2);
    const { client, sent } = clientFor();
    const controller = new AbortController();
    // pollIntervalMs 0 would poll again at once: only Retry-After keeps the follower waiting for the abort.
    const got = await follow(
      client,
      { signal: controller.signal, pollIntervalMs: 0, onCursor: () => setTimeout(() => controller.abort(), 50) },
      () => false,
    );
    expect(got.map((g) => g.event.id)).toEqual(ids);
    expect(sent.length).toBe(1);
  });

  it("a cursor the stream refuses throws the typed problem", async () => {
    const { client } = clientFor();
    const error = await follow(client, { cursor: "k2.bm90LWEtY3Vyc29y.AAAA" }, () => true).catch((e) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).slug).toBe("invalid-cursor");
  });
});
