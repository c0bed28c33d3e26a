import { exports } from "cloudflare:workers";
import { TEST_API_KEY } from "../setup/bindings";

const ORIGIN = "https://tributary.test";

/** Calls the worker through its real fetch entry point. `auth: false` sends no Authorization header. */
export async function call(path: string, init: RequestInit & { auth?: string | false } = {}): Promise<Response> {
  const { auth = TEST_API_KEY, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (auth !== false && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${auth}`);
  return exports.default.fetch(new Request(new URL(path, ORIGIN), { ...rest, headers }));
}

/** Calls the worker and parses a JSON body. */
export async function callJson<T = unknown>(path: string, init?: RequestInit & { auth?: string | false }) {
  const res = await call(path, init);
  const text = await res.text();
  return { res, body: (text ? JSON.parse(text) : null) as T };
}
