import type { Context } from "hono";
import { sha256Hex } from "../../shared/digest";

/** JSON with every object's keys sorted, at every depth: equal values give equal text, whatever the key order sent. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * What identifies a request to an operation: hex SHA-256 over its path parameters and JSON body, in canonical form.
 * These are all an operation reads (the caller and the operation scope the key itself), so two requests with one
 * fingerprint ask for the same thing, however their JSON was spaced or ordered.
 * @example await fingerprintOf({ param: { id: "we_01JD…" }, json: undefined }) // "9c1e…"
 */
export const fingerprintOf = (request: { param: unknown; json: unknown }) => sha256Hex(canonicalJson(request));

/** The fingerprint of a request, from what its route validated. */
export function requestFingerprint(c: Context): Promise<string> {
  const req = c.req as unknown as { valid(target: string): unknown };
  return fingerprintOf({ param: req.valid("param"), json: req.valid("json") });
}
