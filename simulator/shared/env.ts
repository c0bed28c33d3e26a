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
