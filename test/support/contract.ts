import type { z } from "@hono/zod-openapi";
import { expect } from "vitest";
import { createApp } from "../../src/app";

/** One operation as the routes declare it (the same declarations the OpenAPI document is generated from). */
interface Declared {
  method: string;
  path: string;
  pattern: RegExp;
  responses: Record<string, { content?: Record<string, { schema: z.ZodType }> }>;
}

interface RouteDefinition {
  type: string;
  route: { method: string; path: string; responses: Declared["responses"] };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&");

const declared: Declared[] = (createApp().openAPIRegistry.definitions as unknown as RouteDefinition[])
  .filter((d) => d.type === "route")
  .map(({ route }) => ({
    method: route.method.toUpperCase(),
    path: route.path,
    pattern: new RegExp(
      `^${route.path
        .split(/\{[^}]+\}/)
        .map(escapeRegExp)
        .join("[^/]+")}$`,
    ),
    responses: route.responses,
  }));

/** Served outside the declared operations: the document itself and the reference UI. */
const UNDECLARED = [/^\/openapi\.json$/, /^\/docs(\/.*)?$/];

/** The declared operation a request reached; a literal path wins over a templated one. */
function operationOf(method: string, pathname: string): Declared | undefined {
  const verb = method === "HEAD" ? "GET" : method;
  const matching = declared.filter((d) => d.method === verb && d.pattern.test(pathname));
  return matching.find((d) => !d.path.includes("{")) ?? matching[0];
}

/** How many 2xx bodies were validated against their operation's schema, per operation. */
export const validatedBodies: Record<string, number> = {};

/**
 * Asserts a 2xx answer is one its operation declares, and that its body parses with the declared response schema
 * (not only as JSON). Undeclared paths may answer 2xx only for the document and the reference UI.
 */
export async function expectDeclaredSuccess(method: string, url: string, res: Response): Promise<void> {
  const pathname = new URL(url, "https://tributary.test").pathname;
  const operation = operationOf(method, pathname);
  const where = `${method} ${url.slice(0, 200)} → ${res.status}`;
  if (!operation) {
    expect(
      UNDECLARED.some((p) => p.test(pathname)),
      `${where}: a 2xx from no declared operation`,
    ).toBe(true);
    return;
  }
  const response = operation.responses[String(res.status)];
  expect(response, `${where}: status not declared by ${operation.method} ${operation.path}`).toBeDefined();
  const schema = response?.content?.["application/json"]?.schema;
  const text = await res.text();
  if (!schema || method === "HEAD") {
    if (!schema) expect(text, `${where}: declared without a body`).toBe("");
    return;
  }
  expect(res.headers.get("Content-Type"), where).toMatch(/^application\/json/);
  const result = schema.safeParse(JSON.parse(text));
  expect(result.success, `${where}: ${result.error?.message ?? ""}\n${text.slice(0, 500)}`).toBe(true);
  const key = `${operation.method} ${operation.path}`;
  validatedBodies[key] = (validatedBodies[key] ?? 0) + 1;
}
