import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { deleteEndpoint, type EndpointRow } from "../../src/delivery/endpoint-store";
import { updateEndpoint } from "../../src/delivery/endpoints";
import { expectProblem } from "../support/problem";
import {
  type CreatedEndpoint,
  callApp,
  callAppJson,
  createHookEndpoint,
  resetWebhookStore,
  rows,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

// If-Match on PATCH and DELETE (RFC 9110 §13.1.1): a write based on a state that changed meanwhile answers 412
// naming the current tag, and changes nothing. Without If-Match, writes happen as they always did.

beforeEach(resetWebhookStore);

/** The resource's ETag, as GET sends it. */
async function etagOf(w: WebhookEnv, path: string): Promise<string> {
  const res = await callApp(w, path);
  expect(res.status).toBe(200);
  return res.headers.get("ETag") ?? "";
}

const patch = (w: WebhookEnv, path: string, json: unknown, ifMatch?: string) =>
  callApp(w, path, { method: "PATCH", json, ...(ifMatch === undefined ? {} : { headers: { "If-Match": ifMatch } }) });

const remove = (w: WebhookEnv, path: string, ifMatch?: string) =>
  callApp(w, path, { method: "DELETE", ...(ifMatch === undefined ? {} : { headers: { "If-Match": ifMatch } }) });

async function endpointPath(w: WebhookEnv) {
  const { endpoint } = await createHookEndpoint(w, { description: "first" });
  return { endpoint, path: `/v1/webhook-endpoints/${endpoint.id}` };
}

describe("If-Match on webhook endpoints", () => {
  it("a PATCH with the current tag applies and answers the new state's tag, the one GET then sends", async () => {
    const w = webhookEnv();
    const { path } = await endpointPath(w);
    const tag = await etagOf(w, path);
    expect(tag).toMatch(/^"[0-9a-f]{32}"$/);
    const res = await patch(w, path, { description: "second" }, tag);
    expect(res.status).toBe(200);
    const next = res.headers.get("ETag");
    expect(next).toMatch(/^"[0-9a-f]{32}"$/);
    expect(next).not.toBe(tag);
    expect(await etagOf(w, path)).toBe(next);
    // The answer's tag is good for the next write.
    expect((await patch(w, path, { description: "third" }, next ?? "")).status).toBe(200);
  });

  it("a stale If-Match is a 412 naming the current tag, and the newer edit survives", async () => {
    const w = webhookEnv();
    const { path } = await endpointPath(w);
    const stale = await etagOf(w, path);
    const newer = await patch(w, path, { description: "edited by someone else" });
    const current = newer.headers.get("ETag") ?? "";

    const res = await patch(w, path, { description: "my edit", enabled: false }, stale);
    expect(res.headers.get("ETag")).toBe(current);
    const problem = await expectProblem(res, 412, "precondition-failed");
    expect(problem.etag).toBe(current);
    expect(problem.detail).toContain(current);
    const { body } = await callAppJson<CreatedEndpoint & { description: string }>(w, path);
    expect(body).toMatchObject({ description: "edited by someone else", enabled: true });
    expect(await etagOf(w, path)).toBe(current);
  });

  it("a DELETE with a stale tag is a 412 and deletes nothing; with the current tag it deletes", async () => {
    const w = webhookEnv();
    const { endpoint, path } = await endpointPath(w);
    const stale = await etagOf(w, path);
    await patch(w, path, { description: "changed" });
    const problem = await expectProblem(await remove(w, path, stale), 412, "precondition-failed");
    expect(problem.etag).toBe(await etagOf(w, path));
    expect(await rows("SELECT id FROM webhook_secrets WHERE endpoint_id = ?", endpoint.id)).toHaveLength(1);

    expect((await remove(w, path, await etagOf(w, path))).status).toBe(204);
    expect(await rows("SELECT id FROM webhook_endpoints")).toEqual([]);
    expect(await rows("SELECT id FROM webhook_secrets")).toEqual([]);
  });

  it("without If-Match a write happens whatever the state, as before", async () => {
    const w = webhookEnv();
    const { path } = await endpointPath(w);
    await patch(w, path, { description: "one" });
    const res = await patch(w, path, { description: "two" });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe(await etagOf(w, path));
    expect((await remove(w, path)).status).toBe(204);
  });

  it("`*` matches any state; a list matches when it holds the current tag; a weak tag never matches", async () => {
    const w = webhookEnv();
    const { path } = await endpointPath(w);
    expect((await patch(w, path, { description: "a" }, "*")).status).toBe(200);
    const tag = await etagOf(w, path);
    expect((await patch(w, path, { description: "b" }, `"0000", ${tag}`)).status).toBe(200);
    const current = await etagOf(w, path);
    await expectProblem(await patch(w, path, { description: "c" }, `W/${current}`), 412, "precondition-failed");
    expect((await remove(w, path, "*")).status).toBe(204);
  });

  it.each([
    ["an unquoted tag", "abc"],
    ["an empty value", ""],
    ["junk after a tag", '"abc" x'],
  ])("400 naming the header for %s", async (_what, value) => {
    const w = webhookEnv();
    const { path } = await endpointPath(w);
    const problem = await expectProblem(await patch(w, path, { description: "x" }, value), 400, "validation-error");
    expect(problem.errors?.map((e) => [e.in, e.name])).toEqual([["header", "if-match"]]);
  });

  it("a missing endpoint is a 404 whatever If-Match says (preconditions apply to what exists)", async () => {
    const w = webhookEnv();
    const path = "/v1/webhook-endpoints/we_00000000000000000000000000";
    await expectProblem(await patch(w, path, { description: "x" }, '"abc"'), 404, "not-found");
    await expectProblem(await remove(w, path, "*"), 404, "not-found");
  });

  it("a write that loses the race after its tag was checked changes nothing (compare-and-set in D1)", async () => {
    const w = webhookEnv();
    const { endpoint, path } = await endpointPath(w);
    const [read] = await rows<EndpointRow>("SELECT * FROM webhook_endpoints WHERE id = ?", endpoint.id);
    if (!read) throw new Error("no endpoint row");
    // Another write lands between this read and the guarded write.
    await patch(w, path, { description: "landed in between" });
    expect(await updateEndpoint(env.DB, read, { description: "late" }, true)).toBeNull();
    const { body } = await callAppJson<{ description: string }>(w, path);
    expect(body.description).toBe("landed in between");
    expect(await deleteEndpoint(env.DB, read.id, read.updated_at, read)).toBe(false);
    expect(await rows("SELECT id FROM webhook_secrets WHERE endpoint_id = ?", read.id)).toHaveLength(1);
    // Unguarded, the same write happens (the behaviour without If-Match).
    expect(await updateEndpoint(env.DB, read, { description: "late" }, false)).not.toBeNull();
  });
});

describe("If-Match on poll-only subscriptions", () => {
  it("PATCH answers the new tag; a stale tag on PATCH or DELETE is a 412 naming the current one", async () => {
    const w = webhookEnv();
    const created = await callAppJson<{ id: string }>(w, "/v1/event-subscriptions", { method: "POST", json: {} });
    const path = `/v1/event-subscriptions/${created.body.id}`;
    const stale = await etagOf(w, path);
    const first = await patch(w, path, { description: "mine" }, stale);
    expect(first.status).toBe(200);
    const current = first.headers.get("ETag") ?? "";
    expect(current).toBe(await etagOf(w, path));
    const problem = await expectProblem(await patch(w, path, { description: "late" }, stale), 412);
    expect(problem.etag).toBe(current);
    await expectProblem(await remove(w, path, stale), 412, "precondition-failed");
    expect((await remove(w, path, current)).status).toBe(204);
  });
});
