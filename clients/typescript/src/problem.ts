import type { components } from "./schema.js";

/** An RFC 9457 problem document, as every tributary error answer carries (`application/problem+json`). */
export type Problem = components["schemas"]["Problem"];

/**
 * A non-2xx answer, with its problem document typed. `problem.type` names the problem (e.g.
 * `/problems/invalid-cursor`), `problem.errors` the offending parameters of a 400.
 * @example
 * try { await unwrap(client.GET("/v1/inkit/runs", { params: { query: { limit: 0 } } })) }
 * catch (err) { if (err instanceof ProblemError && err.status === 400) console.log(err.problem.errors) }
 */
export class ProblemError extends Error {
  override readonly name = "ProblemError";

  constructor(
    readonly status: number,
    readonly problem: Problem,
    readonly response?: Response,
  ) {
    super(`${status} ${problem.title}: ${problem.detail}`);
  }

  /** The problem type's slug, e.g. `invalid-cursor`. */
  get slug(): string {
    return this.problem.type.replace(/^.*\/problems\//, "");
  }
}

const isProblem = (body: unknown): body is Problem =>
  typeof body === "object" &&
  body !== null &&
  typeof (body as Problem).type === "string" &&
  typeof (body as Problem).title === "string" &&
  typeof (body as Problem).status === "number";

/**
 * The error of a failed answer. A body that is not a problem document (say, from a proxy in between) still
 * becomes one, of type `about:blank` (RFC 9457 §4.2), so callers handle a single error type.
 */
export function problemError(response: Response, body: unknown): ProblemError {
  if (isProblem(body)) return new ProblemError(response.status, body, response);
  return new ProblemError(
    response.status,
    {
      type: "about:blank",
      title: response.statusText || `HTTP ${response.status}`,
      status: response.status,
      detail: typeof body === "string" && body ? body.slice(0, 200) : `The server answered HTTP ${response.status}.`,
      request_id: response.headers.get("X-Request-Id"),
    },
    response,
  );
}

/**
 * The data of an openapi-fetch result, or its problem thrown as a ProblemError.
 * @example const batch = await unwrap(client.GET("/v1/inkit/batches/{batch_id}", { params: { path: { batch_id } } }))
 */
export async function unwrap<T>(result: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await result;
  if (!response.ok) throw problemError(response, error);
  return data as T;
}
