import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createApp } from "../../src/app";
import { ProblemSchema } from "../../src/schemas/problem";
import { TEST_API_KEY } from "../setup/bindings";

const ORIGIN = "https://tributary.test";

export interface AppRequest extends Omit<RequestInit, "headers"> {
  headers?: Record<string, string>;
  /** API key to send as a bearer token; false sends no Authorization header. */
  auth?: string | false;
  /** Bindings and vars to override, of any type (a rate limiter binding, say). */
  env?: Record<string, unknown>;
}

/** Calls a fresh app (the real createApp()) with some bindings overridden, waiting for its background work. */
export async function request(path: string, init: AppRequest = {}): Promise<Response> {
  const { auth = TEST_API_KEY, env: overrides = {}, headers = {}, ...rest } = init;
  const h = new Headers(headers);
  if (auth !== false && !h.has("Authorization")) h.set("Authorization", `Bearer ${auth}`);
  const ctx = createExecutionContext();
  const res = await createApp().fetch(
    new Request(new URL(path, ORIGIN), { ...rest, headers: h }),
    { ...env, ...overrides } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/**
 * Asserts that a response is a valid problem document: `application/problem+json`, a body that parses with
 * the published Problem schema, a status equal to the response's and a request id equal to `X-Request-Id`.
 */
export async function expectValidProblem(res: Response) {
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const body = ProblemSchema.parse(await res.json());
  expect(body.status).toBe(res.status);
  expect(body.type).toMatch(/^\/problems\/[a-z-]+$/);
  expect(body.request_id).toBe(res.headers.get("X-Request-Id"));
  return body;
}

/** Captures console output (the structured logs) while `fn` runs. */
export async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const original = { log: console.log, warn: console.warn, error: console.error };
  const capture = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  console.log = capture;
  console.warn = capture;
  console.error = capture;
  try {
    return { result: await fn(), lines };
  } finally {
    Object.assign(console, original);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
