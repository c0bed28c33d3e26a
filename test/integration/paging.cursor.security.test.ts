import { describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { type CursorPayload, cursorKeys, signCursor, verifyCursor } from "../../src/paging/cursor";
import { TEST_API_KEY_2, testBindings } from "../setup/bindings";
import { expectProblem } from "../support/problem";
import type { PageBody } from "../support/walk";
import { call, callJson } from "../support/worker";

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const runsOf = (def: string) => `/v1/8x8/accounts/acme-ops/definitions/${def}/runs`;
const secrets = testBindings({ inkitUrl: "", eightByEightUrl: "" }).CURSOR_SECRET;

async function nextCursor(path: string, init?: RequestInit & { auth?: string }) {
  const { res, body } = await callJson<PageBody>(path, init);
  expect(res.status).toBe(200);
  expect(body.page.next_cursor).toBeTruthy();
  return body.page.next_cursor as string;
}

/** Re-signs a cursor after changing its payload, as if the deployment itself had issued it so. */
async function reissue(cursor: string, change: (p: CursorPayload) => CursorPayload, keyIndex = 0) {
  const keys = await cursorKeys(secrets);
  const payload = await verifyCursor(cursor, keys, 86_400, Date.now());
  const signer = keys[keyIndex];
  if (!signer) throw new Error("no such key");
  return signCursor(change(payload), [signer]);
}

const withCursor = (path: string, cursor: string) => `${path}?cursor=${encodeURIComponent(cursor)}`;

describe("cursor integrity", () => {
  it("a modified payload is a 400, never a wrong page", async () => {
    const cursor = await nextCursor("/v1/inkit/runs?limit=5");
    const [kid, body, mac] = cursor.split(".") as [string, string, string];
    const flipped = body.slice(0, 20) + (body[20] === "A" ? "B" : "A") + body.slice(21);
    const problem = await expectProblem(
      await call(withCursor("/v1/inkit/runs", `${kid}.${flipped}.${mac}`)),
      400,
      "invalid-cursor",
    );
    expect(problem.detail).toMatch(/modified/);
  });

  it("a modified signature, garbage, and an unknown key id are each a 400", async () => {
    const cursor = await nextCursor("/v1/inkit/runs?limit=5");
    const [kid, body] = cursor.split(".") as [string, string, string];
    await expectProblem(
      await call(withCursor("/v1/inkit/runs", `${kid}.${body}.AAAAAAAAAAAAAAAAAAAAAA`)),
      400,
      "invalid-cursor",
    );
    await expectProblem(await call(withCursor("/v1/inkit/runs", "not-a-cursor")), 400, "invalid-cursor");
    const unknownKid = await expectProblem(
      await call(withCursor("/v1/inkit/runs", `k9.${body}.AAAA`)),
      400,
      "invalid-cursor",
    );
    expect(unknownKid.detail).toMatch(/no longer accepts/);
  });

  it("a cursor signed with the older, still-listed key keeps working (rotation)", async () => {
    const cursor = await nextCursor("/v1/inkit/runs?limit=5");
    const old = await reissue(cursor, (p) => p, 1);
    expect(old.startsWith("k1.")).toBe(true);
    const { res, body } = await callJson<PageBody>(withCursor("/v1/inkit/runs", old));
    expect(res.status).toBe(200);
    expect(body.data).toHaveLength(5);
    expect(body.page.next_cursor?.startsWith("k2.")).toBe(true);
  });

  it("an expired cursor is a 400 cursor-expired telling the client to restart", async () => {
    const cursor = await nextCursor("/v1/inkit/runs?limit=5");
    const stale = await reissue(cursor, (p) => ({ ...p, s: p.s - 25 * 3600 * 1000 }));
    const problem = await expectProblem(await call(withCursor("/v1/inkit/runs", stale)), 400, "cursor-expired");
    expect(problem.detail).toMatch(/Restart/);
  });
});

describe("cursor binding", () => {
  it("is bound to its route", async () => {
    const cursor = await nextCursor("/v1/inkit/runs?limit=5");
    const problem = await expectProblem(await call(withCursor("/v1/inkit/batches", cursor)), 400, "invalid-cursor");
    expect(problem.detail).toMatch(/another listing/);
  });

  it("is bound to its path parameters", async () => {
    const cursor = await nextCursor(`${runsOf(defs.orderNotifications)}?limit=5`);
    const problem = await expectProblem(
      await call(withCursor(runsOf(defs.smsKeywordRouter), cursor)),
      400,
      "invalid-cursor",
    );
    expect(problem.errors).toEqual([{ in: "cursor", name: "definition_id", message: expect.any(String) }]);
  });

  it("is bound to the caller's API key", async () => {
    const cursor = await nextCursor("/v1/inkit/runs?limit=5");
    const problem = await expectProblem(
      await call(withCursor("/v1/inkit/runs", cursor), { auth: TEST_API_KEY_2 }),
      400,
      "invalid-cursor",
    );
    expect(problem.detail).toMatch(/another caller/);
  });

  it("is bound to a pass-through upstream credential", async () => {
    const headers = { "X-Inkit-API-Token": "sim_inkit_other_token" };
    const cursor = await nextCursor("/v1/inkit/runs?limit=5", { headers });
    await expectProblem(await call(withCursor("/v1/inkit/runs", cursor)), 400, "invalid-cursor");
    expect((await call(withCursor("/v1/inkit/runs", cursor), { headers })).status).toBe(200);
  });

  it("carries its filters: omitted is fine, the same value is fine, another value is a 400 naming it", async () => {
    const cursor = await nextCursor("/v1/inkit/runs?limit=5&destination_name=sepire&sort=-created_at");
    const omitted = await callJson<PageBody<{ destinations: { type: string }[] }>>(
      withCursor("/v1/inkit/runs", cursor),
    );
    expect(omitted.res.status).toBe(200);
    for (const run of omitted.body.data) expect(run.destinations.map((d) => d.type)).toContain("sepire");
    expect((await call(`${withCursor("/v1/inkit/runs", cursor)}&destination_name=sepire`)).status).toBe(200);
    const problem = await expectProblem(
      await call(`${withCursor("/v1/inkit/runs", cursor)}&destination_name=box&sort=name`),
      400,
      "invalid-cursor",
    );
    expect(problem.errors?.map((e) => e.name).sort()).toEqual(["destination_name", "sort"]);
  });
});

describe("list query validation", () => {
  it("unknown parameters are a 400 naming each of them", async () => {
    const problem = await expectProblem(await call("/v1/inkit/runs?limt=5&pagesize=3"), 400, "validation-error");
    expect(problem.errors?.map((e) => e.name).sort()).toEqual(["limt", "pagesize"]);
  });

  it("every bad value is named at once", async () => {
    const problem = await expectProblem(await call("/v1/inkit/runs?limit=0&sort=colour"), 400, "validation-error");
    expect(problem.errors?.map((e) => e.name).sort()).toEqual(["limit", "sort"]);
    const ebe = await expectProblem(
      await call(`${runsOf(defs.orderNotifications)}?limit=501&status=Complete&started_from=yesterday`),
      400,
      "validation-error",
    );
    expect(ebe.errors?.map((e) => e.name).sort()).toEqual(["limit", "started_from", "status"]);
  });

  it("a malformed definition id is a 400 naming it, without calling 8x8", async () => {
    const problem = await expectProblem(
      await call("/v1/8x8/accounts/acme-ops/definitions/not-a-uuid/runs"),
      400,
      "validation-error",
    );
    expect(problem.errors).toEqual([{ in: "path", name: "definition_id", message: expect.any(String) }]);
  });
});
