import { z } from "@hono/zod-openapi";

/**
 * Where a request parameter stands, for `.openapi()`: spread it beside the description and example.
 * @example status: z.enum(RUN_STATUSES).optional().openapi({ ...queryParam("status"), description: "…" })
 */
export const queryParam = (name: string) => ({ param: { name, in: "query" as const } });

/**
 * A path parameter: a string matching `pattern`, else a 400 whose message says what was expected.
 * @example batch_id: pathParam("batch_id", /^[A-Za-z0-9_-]{1,64}$/, "Expected a batch id.", "rb_6WtDgF7RGqdS5Uzea9neZJ")
 */
export const pathParam = (name: string, pattern: RegExp, message: string, example: string) =>
  z
    .string()
    .regex(pattern, message)
    .openapi({ param: { name, in: "path" }, example });
