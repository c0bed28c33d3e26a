import { type Context, Hono } from "hono";
import { z } from "zod";
import { isTenant, type Tenant, tenantForCredential } from "../credentials";
import { faultSpecSchema } from "../faults";
import { rateLimitSpecSchema } from "../rate-limit";
import { jsonResponse } from "../shared/env";
import { settingsUpdateSchema } from "../shared/settings";
import type { SimulatorState } from "../shared/state";

/** Admin errors are the simulator's own, not a vendor's: `{"error": {"code", "message"}}`. */
export function adminError(status: number, code: string, message: string): Response {
  return jsonResponse(status, { error: { code, message } });
}

/** The JSON body validated by `schema`, or a 400 response saying what is wrong. */
export async function readBody<Schema extends z.ZodType>(
  c: Context,
  schema: Schema,
): Promise<z.output<Schema> | Response> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return adminError(400, "invalid_json", "The body must be JSON.");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) return adminError(400, "invalid_body", z.prettifyError(parsed.error));
  return parsed.data;
}

/** `?tenant=` of admin reads: demo unless given; anything else is an error. */
export function readTenant(c: Context): Tenant | Response {
  const tenant = c.req.query("tenant") ?? "demo";
  return isTenant(tenant)
    ? tenant
    : adminError(400, "invalid_tenant", `tenant must be "demo" or "other", got "${tenant}".`);
}

export const tenantSchema = z.enum(["demo", "other"]);

/** The shared admin routes below, which leave the seeded data as it is. */
const SHARED_ROUTES = /\/(reset|settings|counters|faults|credentials|rate-limit)(\/[^/]*)?$/;

/** One exact credential string, as the emulated routes receive it (a `~tag` suffix included). */
const credentialSchema = z.strictObject({ credential: z.string().min(1) });

/**
 * Routes both simulators share: reset, settings, request counters, fault injection, per-credential rate limits and
 * credential revocation.
 * `credentials` are the simulator's own (a token or key per tenant); only those, with or without a `~tag`, can be
 * revoked, so a typo or the other vendor's credential gets 404 instead of silently doing nothing.
 */
export function createAdminApp<Data>(state: SimulatorState<Data>, credentials: Record<Tenant, string>): Hono {
  const admin = new Hono();

  // The emulated routes only read the data; it changes through the admin writes of each simulator's own routes.
  admin.use("*", async (c, next) => {
    const writes = c.req.method !== "GET" && !SHARED_ROUTES.test(c.req.path);
    if (writes) state.changed();
    await next();
    // The write happened in between: a view built from the data while it was under way is stale too.
    if (writes) state.changed();
  });

  admin.post("/reset", () => {
    state.reset();
    return jsonResponse(200, { reset: true });
  });

  admin.get("/settings", () => jsonResponse(200, state.settings));
  admin.post("/settings", async (c) => {
    const update = await readBody(c, settingsUpdateSchema);
    if (update instanceof Response) return update;
    state.settings = { ...state.settings, ...update };
    return jsonResponse(200, state.settings);
  });

  admin.get("/counters", () => jsonResponse(200, state.counters.snapshot()));
  admin.get("/counters/credentials", () => jsonResponse(200, { credentials: state.counters.byCredential() }));
  admin.delete("/counters", () => {
    state.counters.clear();
    return jsonResponse(200, state.counters.snapshot());
  });
  admin.get("/requests", () => jsonResponse(200, { requests: state.counters.recent() }));

  admin.post("/faults", async (c) => {
    const spec = await readBody(c, faultSpecSchema);
    if (spec instanceof Response) return spec;
    return jsonResponse(200, { id: state.faults.add(spec).id });
  });
  admin.get("/faults", () => jsonResponse(200, { faults: state.faults.list() }));
  admin.delete("/faults", () => {
    const cleared = state.faults.list().length;
    state.faults.clear();
    return jsonResponse(200, { cleared });
  });
  admin.delete("/faults/:id", (c) => {
    const id = c.req.param("id");
    return state.faults.remove(id)
      ? jsonResponse(200, { cleared: 1 })
      : adminError(404, "unknown_fault", `No fault ${id}.`);
  });

  admin.post("/rate-limit", async (c) => {
    const spec = await readBody(c, rateLimitSpecSchema);
    if (spec instanceof Response) return spec;
    state.rateLimits.set(spec);
    return jsonResponse(200, { limits: state.rateLimits.list(), refused: state.rateLimits.refusedTotal() });
  });
  admin.get("/rate-limit", () =>
    jsonResponse(200, { limits: state.rateLimits.list(), refused: state.rateLimits.refusedTotal() }),
  );
  admin.delete("/rate-limit", () => {
    const cleared = state.rateLimits.list().length;
    state.rateLimits.clear();
    return jsonResponse(200, { cleared });
  });

  admin.get("/credentials", () => jsonResponse(200, { revoked: [...state.revoked] }));
  const setRevoked = (revoked: boolean) => async (c: Context) => {
    const body = await readBody(c, credentialSchema);
    if (body instanceof Response) return body;
    const tenant = tenantForCredential(credentials, body.credential);
    if (tenant === undefined)
      return adminError(404, "unknown_credential", `${body.credential} is none of this simulator's credentials.`);
    if (revoked) state.revoked.add(body.credential);
    else state.revoked.delete(body.credential);
    return jsonResponse(200, { credential: body.credential, tenant, revoked });
  };
  admin.post("/credentials/revoke", setRevoked(true));
  admin.post("/credentials/reinstate", setRevoked(false));

  return admin;
}
