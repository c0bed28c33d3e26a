import type { z } from "@hono/zod-openapi";
import { ProblemError } from "../http/problem";
import {
  type Provider,
  providerNames,
  readUpstreamJson,
  type UpstreamInfo,
  upstreamGet,
  upstreamProblem,
} from "../http/upstream";
import type { Credential } from "./credentials";

export interface UpstreamErrorBody {
  code: string | number | null;
  errorId: string | null;
  message: string | null;
}

export interface UpstreamClientOptions {
  provider: Provider;
  baseUrl: string;
  credential: Credential;
  timeoutMs: number;
  /** Headers that carry the credential, as the upstream expects them. */
  authHeaders: (credential: string) => Record<string, string>;
  /** Provider-specific error rules; return null to fall back to the generic mapping. */
  mapError: (status: number, body: UpstreamErrorBody, info: UpstreamInfo) => ProblemError | null;
}

/** Best-effort read of an upstream error body: its code, error id and message, when it has them. */
async function readErrorBody(res: Response): Promise<UpstreamErrorBody> {
  let body: unknown = null;
  try {
    body = JSON.parse(await res.text());
  } catch {}
  const obj = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const nested = (typeof obj.error === "object" && obj.error !== null ? obj.error : {}) as Record<string, unknown>;
  const pick = (v: unknown) => (typeof v === "string" || typeof v === "number" ? v : null);
  const message = pick(obj.message) ?? pick(nested.message);
  return {
    code: pick(obj.code) ?? pick(nested.code),
    errorId: typeof obj.errorId === "string" ? obj.errorId : null,
    message: message === null ? null : String(message),
  };
}

/**
 * Maps an upstream error that no provider rule claimed. Credentials rejected upstream are the caller's
 * problem (401) only when the caller sent them; with our configured secret it is ours (502).
 */
function genericError(provider: Provider, credential: Credential, info: UpstreamInfo): ProblemError {
  const name = providerNames[provider];
  if (info.status === 401 || info.status === 403) {
    if (credential.passThrough) {
      return new ProblemError("unauthorized", {
        detail: `${name} rejected the credential sent in your request.`,
        headers: { "WWW-Authenticate": 'Bearer realm="tributary"' },
        extensions: { upstream: info },
      });
    }
    return upstreamProblem("upstream-auth", info, `${name} rejected this deployment's configured credential.`);
  }
  return upstreamProblem("upstream-error", info, `${name} answered with HTTP ${info.status}.`);
}

/** HTTP access to one upstream: authenticates, validates bodies, and maps errors to problems naming it. */
export function upstreamClient(opts: UpstreamClientOptions) {
  const { provider, baseUrl, credential, timeoutMs } = opts;
  return {
    /** GETs `path` with `query` and validates the body against `schema`. */
    async get<S extends z.ZodType>(path: string, query: Record<string, string>, schema: S): Promise<z.infer<S>> {
      const url = new URL(path, baseUrl);
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
      const res = await upstreamGet(provider, url.toString(), opts.authHeaders(credential.value), timeoutMs);
      if (res.ok) return readUpstreamJson(provider, res, schema);
      const body = await readErrorBody(res);
      const info: UpstreamInfo = { provider, status: res.status, code: body.code, error_id: body.errorId };
      throw opts.mapError(res.status, body, info) ?? genericError(provider, credential, info);
    },
  };
}

export type UpstreamClient = ReturnType<typeof upstreamClient>;
