import type { z } from "@hono/zod-openapi";
import { type UpstreamBodyName, upstreamBodySchemas } from "./targets";
import { eightByEightList, inkitBatch, inkitBatchList, inkitRunList } from "./upstream.gen.js";

const generated: Record<UpstreamBodyName, (data: unknown) => boolean> = {
  inkitRunList,
  inkitBatchList,
  inkitBatch,
  eightByEightList,
};

// Per schema, a derived schema whose safeParse and parse run the generated validator first: it is several times
// faster than zod, which cannot compile its parsers where code generation from strings is forbidden (Workers).
// Only a body it rejects goes through zod, whose first issue names the field for the 502's detail. Both accept
// exactly the same bodies (test/unit/upstream-validators.test.ts), bar one the generated code leaves to zod (an own
// "__proto__" key); an accepted body is returned as parsed, not copied. Its input is JSON.parse output.
const derived = new WeakMap<z.ZodType, z.ZodType>();
for (const [name, schema] of Object.entries(upstreamBodySchemas)) {
  const check = generated[name as UpstreamBodyName];
  const fast: z.ZodType = Object.create(schema);
  fast.safeParse = (data, params) => (check(data) ? { success: true, data } : schema.safeParse(data, params));
  fast.parse = (data, params) => (check(data) ? data : schema.parse(data, params));
  derived.set(schema, fast);
}

/**
 * `schema`, validating with its ahead-of-time validator when `npm run validators` generated one; otherwise `schema`
 * itself. Its result is the same `safeParse` answer either way.
 *
 * @example precompiled(EightByEightListSchema).safeParse(JSON.parse(text))
 */
export function precompiled<S extends z.ZodType>(schema: S): S {
  return (derived.get(schema) as S | undefined) ?? schema;
}
