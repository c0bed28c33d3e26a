import { describe, expect, it } from "vitest";
import { expectProblem } from "../support/problem";
import { call } from "../support/worker";

// One suite of auth and problem-document checks applied to every /v1 operation of the published document, so a
// route added later is covered without a test of its own. Authentication runs before validation and storage, so
// placeholder path parameters and empty bodies are enough.

interface Operation {
  method: string;
  path: string;
}

async function v1Operations(): Promise<Operation[]> {
  const doc = (await (await call("/openapi.json", { auth: false })).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(doc.paths)
    .filter(([path]) => path.startsWith("/v1/"))
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => ["get", "post", "put", "patch", "delete"].includes(m))
        .map((method) => ({
          method: method.toUpperCase(),
          path: path.replace(/\{[^}]+\}/g, "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14"),
        })),
    );
}

const send = (op: Operation, auth?: string | false) =>
  call(op.path, {
    method: op.method,
    auth,
    ...(op.method === "GET" || op.method === "DELETE"
      ? {}
      : { body: "{}", headers: { "Content-Type": "application/json" } }),
  });

describe("every /v1 operation", () => {
  it("is listed: the suite below covers the API keys' routes and both inbound hooks", async () => {
    const ops = await v1Operations();
    expect(ops.length).toBeGreaterThanOrEqual(15);
    expect(ops.some((o) => o.path === "/v1/inbound/inkit")).toBe(true);
    expect(ops.some((o) => o.path === "/v1/inbound/8x8")).toBe(true);
  });

  it("without credentials is a 401 problem document with a bearer challenge (a signature for Inkit's hook)", async () => {
    for (const op of await v1Operations()) {
      const res = await send(op, false);
      const where = `${op.method} ${op.path}`;
      await expectProblem(res, 401, "unauthorized");
      if (op.path === "/v1/inbound/inkit") continue;
      const realm = op.path === "/v1/inbound/8x8" ? "tributary-inbound" : "tributary";
      expect(res.headers.get("WWW-Authenticate"), where).toBe(`Bearer realm="${realm}"`);
    }
  });

  it("with a key that is not an API key is a 401 problem that does not echo it", async () => {
    for (const op of await v1Operations()) {
      if (op.path.startsWith("/v1/inbound/")) continue;
      const res = await send(op, "not-a-real-key");
      expect(res.headers.get("WWW-Authenticate"), `${op.method} ${op.path}`).toContain('error="invalid_token"');
      const problem = await expectProblem(res, 401, "unauthorized");
      expect(JSON.stringify(problem)).not.toContain("not-a-real-key");
    }
  });
});
