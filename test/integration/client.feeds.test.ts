// The typed client's feed walks (clients/typescript/src/feeds.ts) against the worker: saveFeed, paginateFeed and
// feedPages name many sources once, with an Idempotency-Key, and walk GET /v1/runs?feed=… with the usual cursors.
import { beforeEach, describe, expect, it } from "vitest";
import {
  createTributaryClient,
  type Feed,
  feedPages,
  ProblemError,
  paginate,
  paginateFeed,
  saveFeed,
} from "../../clients/typescript/src/index.js";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { TEST_API_KEY } from "../setup/bindings";
import { resetSimulators } from "../support/simulator";
import { resetWebhookStore } from "../support/webhooks";
import { workerFetch } from "../support/worker";

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const FOUR = [
  "inkit",
  `8x8:acme-ops/${defs.orderNotifications}`,
  `8x8:acme-ops/${defs.smsKeywordRouter}`,
  `8x8:acme-ops/${defs.appointmentReminders.toUpperCase()}`,
];

/** The client under test, calling the worker's real fetch entry point; it records what it sent. */
function clientFor() {
  const sent: Request[] = [];
  const client = createTributaryClient({
    baseUrl: "https://tributary.test",
    apiKey: TEST_API_KEY,
    fetch: async (request) => {
      sent.push(request.clone());
      return workerFetch(request);
    },
  });
  return { client, sent };
}

async function collect<T>(walk: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of walk) out.push(item);
  return out;
}

const ids = (items: { id: string }[]) => items.map((i) => i.id);

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

describe("typed client: saved feeds", () => {
  it("paginateFeed with sources saves a feed (with an Idempotency-Key), then walks it: the runs of the inline walk", async () => {
    const { client, sent } = clientFor();
    const query = { status: "completed" as const, limit: 300 };
    let saved: Feed | undefined;
    const runs = await collect(
      paginateFeed(
        client,
        { sources: FOUR, description: "four" },
        { params: { query } },
        { onFeed: (f) => (saved = f) },
      ),
    );
    const expected = await collect(
      paginate(clientFor().client, "/v1/runs", { params: { query: { ...query, source: FOUR } } }),
    );
    expect(ids(runs)).toEqual(ids(expected));
    expect(runs.length).toBeGreaterThan(1000);
    expect(saved?.sources).toEqual([...FOUR.slice(0, 3), FOUR[3]?.toLowerCase()]);

    const [post, first, ...later] = sent;
    expect(post?.method).toBe("POST");
    expect(new URL(post?.url ?? "").pathname).toBe("/v1/feeds");
    expect(post?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
    const firstUrl = new URL(first?.url ?? "");
    expect(Object.fromEntries(firstUrl.searchParams)).toEqual({ feed: saved?.id, status: "completed", limit: "300" });
    // Later pages send only the cursor, which knows the feed and the filters.
    for (const req of later) expect([...new URL(req.url).searchParams.keys()]).toEqual(["cursor"]);
    expect(later.length).toBeGreaterThan(2);
  });

  it("paginateFeed and feedPages walk a saved feed by id", async () => {
    const { client, sent } = clientFor();
    const feed = await saveFeed(client, { sources: FOUR.slice(0, 2) });
    const runs = await collect(paginateFeed(client, feed.id, { params: { query: { limit: 500 } } }));
    expect(runs).toHaveLength(3000 + 1300);
    const pageList = await collect(feedPages(client, feed.id, { params: { query: { limit: 500 } } }));
    expect(pageList.flatMap((p) => ids(p.data))).toEqual(ids(runs));
    expect(sent.filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("saveFeed with your own Idempotency-Key saves once: a repeat gets the same feed", async () => {
    const { client } = clientFor();
    const a = await saveFeed(client, { sources: FOUR, idempotencyKey: "nightly-report-feed" });
    const b = await saveFeed(client, { sources: FOUR, idempotencyKey: "nightly-report-feed" });
    expect(b).toEqual(a);
    const listed = await collect(paginate(client, "/v1/feeds"));
    expect(ids(listed)).toEqual([a.id]);
  });

  it("errors are ProblemErrors: invalid sources (400), a deleted feed (404)", async () => {
    const { client } = clientFor();
    const invalid = await saveFeed(client, { sources: ["inkit:runs"] }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ProblemError);
    expect((invalid as ProblemError).slug).toBe("validation-error");
    const feed = await saveFeed(client, { sources: ["inkit"] });
    const removed = await client.DELETE("/v1/feeds/{id}", { params: { path: { id: feed.id } } });
    expect(removed.response.status).toBe(204);
    const gone = await collect(paginateFeed(client, feed.id)).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ProblemError);
    expect((gone as ProblemError).status).toBe(404);
    expect((gone as ProblemError).slug).toBe("not-found");
  });
});
