import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src";
import { createApp } from "../../src/app";
import { TEST_API_KEY } from "../setup/bindings";

const ORIGIN = "https://tributary.test";

/**
 * Calls the worker through its real fetch entry point (src/index.ts), in this isolate with the test bindings.
 * Background work (waitUntil) is left running, as it is for a real request. `auth: false` sends no
 * Authorization header. (Not through `exports.default`: the test pool's self-binding slows down with every
 * request it has served, by tens of milliseconds after a few hundred, which long walks cannot afford.)
 */
export async function call(path: string, init: RequestInit & { auth?: string | false } = {}): Promise<Response> {
  const { auth = TEST_API_KEY, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (auth !== false && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${auth}`);
  return workerFetch(new Request(new URL(path, ORIGIN), { ...rest, headers }));
}

/** The worker's fetch entry point for a ready-made request (e.g. from a generated client). */
export function workerFetch(request: Request): Promise<Response> {
  const fetch = worker.fetch as (request: Request, env: Env, ctx: ExecutionContext) => Promise<Response>;
  return fetch(request, env as Env, createExecutionContext());
}

/** Calls the worker and parses a JSON body. */
export async function callJson<T = unknown>(path: string, init?: RequestInit & { auth?: string | false }) {
  const res = await call(path, init);
  const text = await res.text();
  return { res, body: (text ? JSON.parse(text) : null) as T };
}

export interface AppRequest extends Omit<RequestInit, "headers"> {
  headers?: Record<string, string>;
  /** API key to send as a bearer token; false sends no Authorization header. */
  auth?: string | false;
  /** Bindings and vars to override, of any type (a rate limiter binding, say). */
  env?: Record<string, unknown>;
}

/**
 * Calls a fresh app built by the real createApp() with some bindings overridden, for configurations the test
 * worker does not run with (a wrong upstream secret, a short timeout, no API keys), waiting for its background work.
 */
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
