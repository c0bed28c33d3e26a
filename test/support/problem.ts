import type { z } from "@hono/zod-openapi";
import { expect } from "vitest";
import { ProblemSchema } from "../../src/schemas/problem";

type ProblemBody = z.infer<typeof ProblemSchema> & Record<string, unknown>;

/**
 * Asserts a response is an RFC 9457 problem document: `application/problem+json`, a body that parses with the
 * published Problem schema, with a title and a detail, its status equal to the response's and its request id
 * equal to `X-Request-Id`; and, when given, with this status and type slug. Returns the body as sent.
 */
export async function expectProblem(res: Response, status?: number, type?: string): Promise<ProblemBody> {
  if (status !== undefined) expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const body = (await res.json()) as Record<string, unknown>;
  ProblemSchema.parse(body);
  expect(body.status).toBe(res.status);
  expect(body.type).toMatch(/^\/problems\/[a-z-]+$/);
  if (type !== undefined) expect(body.type).toBe(`/problems/${type}`);
  expect(body).toMatchObject({ title: expect.any(String), detail: expect.any(String) });
  expect(body.request_id).toBe(res.headers.get("X-Request-Id"));
  return body as ProblemBody;
}
