import { expect } from "vitest";

/** Asserts a response is an RFC 9457 problem document with the given status and type slug; returns it. */
export async function expectProblem(res: Response, status: number, type: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({
    type: `/problems/${type}`,
    status,
    title: expect.any(String),
    detail: expect.any(String),
  });
  expect(body.request_id).toBe(res.headers.get("X-Request-Id"));
  return body as { detail: string; errors?: { in: string; name: string; message: string }[]; [k: string]: unknown };
}
