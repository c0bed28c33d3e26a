import { describe, expect, inject, it } from "vitest";
import { createTributaryClient, paginate } from "../../clients/typescript/src/index.js";

const origin = inject("workerUrl");
const inkitUrl = inject("inkitUrl");
const auth = { Authorization: `Bearer ${inject("apiKey")}` };

async function admin(path: string, init: RequestInit = {}) {
  const res = await fetch(`${inkitUrl}/__admin${path}`, init);
  if (!res.ok) throw new Error(`admin ${path}: ${res.status}`);
  return res.json() as Promise<{ items: { id: string }[] }>;
}

describe("Node's fetch against the worker under wrangler dev", () => {
  it("revalidating with the ETag just received is a 304 while the upstream data is unchanged, a 200 once it changed", async () => {
    const url = `${origin}/v1/inkit/runs?limit=5`;
    const first = await fetch(url, { headers: auth });
    expect(first.status).toBe(200);
    const etag = first.headers.get("ETag") as string;
    expect(etag).toMatch(/^W\/"[0-9a-f]{32}"$/);
    await first.json();

    // Node's fetch adds `Cache-Control: no-cache` to a request carrying If-None-Match (Fetch standard): the worker
    // asks the upstream again (fwd=request), finds the same data, and answers 304 with the same ETag.
    for (let i = 0; i < 2; i++) {
      const again = await fetch(url, { headers: { ...auth, "If-None-Match": etag } });
      expect(again.status).toBe(304);
      expect(again.headers.get("ETag")).toBe(etag);
      expect(again.headers.get("Cache-Status")).toMatch(/^tributary; fwd=request/);
      expect(await again.text()).toBe("");
    }

    await admin("/insert", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind: "run", count: 1 }),
    });
    const changed = await fetch(url, { headers: { ...auth, "If-None-Match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("ETag")).not.toBe(etag);
    expect(((await changed.json()) as { data: { id: string }[] }).data).toHaveLength(5);
  });

  it("the TypeScript client walks a listing with Node's fetch", async () => {
    // tributary's documented order: created_at, then id, both newest first (Inkit timestamps are fixed-width).
    const { items } = (await admin("/items?kind=document_batch")) as { items: { id: string; created_at: string }[] };
    const truth = items
      .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1))
      .map((b) => b.id);
    const client = createTributaryClient({ baseUrl: origin, apiKey: inject("apiKey") });
    const ids: string[] = [];
    for await (const batch of paginate(client, "/v1/inkit/batches", { params: { query: { limit: 100 } } })) {
      ids.push(batch.id);
    }
    expect(ids).toEqual(truth);
  });
});
