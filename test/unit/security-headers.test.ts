import { Hono, type MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { describe, expect, it } from "vitest";
import { SECURE_HEADERS_OPTIONS, securityHeaders } from "../../src/http/security";

/** The headers a response to `path` gets through `middleware`, as [name, value] pairs in the runtime's order. */
async function headersThrough(middleware: MiddlewareHandler, path: string): Promise<[string, string][]> {
  const app = new Hono();
  app.use(middleware);
  app.get("*", (c) => c.json({ ok: true }, 200, { "X-Powered-By": "something" }));
  return [...(await app.request(path)).headers];
}

describe("security headers", () => {
  // The fixed lists stand for hono/secure-headers with the same options: the same headers and values, the same
  // X-Powered-By removed.
  it.each([
    ["/v1/inkit/runs", "api"],
    ["/healthz", "api"],
    ["/docs", "docs"],
    ["/docs/init.js", "docs"],
  ] as const)("on %s, what hono's secureHeaders sets (%s)", async (path, kind) => {
    const ours = await headersThrough(securityHeaders as MiddlewareHandler, path);
    const hono = await headersThrough(secureHeaders(SECURE_HEADERS_OPTIONS[kind]), path);
    expect(ours).toEqual(hono);
    expect(ours.some(([name]) => name === "x-powered-by")).toBe(false);
  });
});
