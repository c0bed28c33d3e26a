import type { z } from "@hono/zod-openapi";
import { ProblemError, type ProblemType } from "./problem";

export type Provider = "inkit" | "8x8";

export const providerNames: Record<Provider, string> = { inkit: "Inkit", "8x8": "8x8" };

/** The `upstream` member of a problem document. */
export interface UpstreamInfo {
  provider: Provider;
  status: number | null;
  code: string | number | null;
  error_id: string | null;
}

/** A problem caused by an upstream, naming the provider. */
export function upstreamProblem(type: ProblemType, info: UpstreamInfo, detail: string): ProblemError {
  return new ProblemError(type, { detail, extensions: { upstream: info } });
}

/** GETs an upstream URL with a timeout; network failures and timeouts become 502/504 problems naming the provider. */
export async function upstreamGet(provider: Provider, url: string, headers: Record<string, string>, timeoutMs: number) {
  const info: UpstreamInfo = { provider, status: null, code: null, error_id: null };
  try {
    return await fetch(url, {
      headers: { Accept: "application/json", ...headers },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
      throw upstreamProblem(
        "upstream-timeout",
        info,
        `${providerNames[provider]} did not answer within ${timeoutMs} ms.`,
      );
    }
    throw upstreamProblem("upstream-error", info, `${providerNames[provider]} could not be reached.`);
  }
}

/** Reads and validates an upstream JSON body; anything malformed is a 502 `upstream-invalid-response`. */
export async function readUpstreamJson<S extends z.ZodType>(
  provider: Provider,
  res: Response,
  schema: S,
): Promise<z.infer<S>> {
  const info: UpstreamInfo = { provider, status: res.status, code: null, error_id: null };
  let body: unknown;
  try {
    body = JSON.parse(await res.text());
  } catch {
    throw upstreamProblem(
      "upstream-invalid-response",
      info,
      `${providerNames[provider]} answered with a body that is not JSON.`,
    );
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join(".") || "(root)";
    throw upstreamProblem(
      "upstream-invalid-response",
      info,
      `${providerNames[provider]} answered with a body that does not match its documented shape (at ${where}).`,
    );
  }
  return parsed.data;
}
