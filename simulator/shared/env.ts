import type { Tenant } from "../credentials";

/** Hono environment of both simulator apps. */
export interface SimulatorEnv {
  Variables: {
    /** Set by the auth middleware before any emulated handler runs. */
    tenant: Tenant;
    /** Set by the fault middleware when a page_size_cap fault applies. */
    pageSizeCap: number | undefined;
  };
}

/** A JSON response built without a Context, so fault and error paths can share it. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=UTF-8", ...headers },
  });
}

/** Each served item as JSON, kept while the data stands: an admin write (a new revision) may change it in place. */
const serialized = new WeakMap<object, { revision: number; json: string }>();

/** `JSON.stringify(item)`, from the last answer that served the item if the data has not changed since. */
export function itemJson(item: object, revision: number): string {
  const known = serialized.get(item);
  if (known?.revision === revision) return known.json;
  const json = JSON.stringify(item);
  serialized.set(item, { revision, json });
  return json;
}

/** A 200 JSON answer whose body is already serialized (the same bytes `jsonResponse` would send). */
export function jsonTextResponse(json: string): Response {
  return new Response(json, { status: 200, headers: { "content-type": "application/json; charset=UTF-8" } });
}
