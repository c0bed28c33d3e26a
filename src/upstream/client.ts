import type { z } from "@hono/zod-openapi";
import { DEFAULT_CONFIG } from "../config";
import { staged } from "../observability/stages";
import type { Provider } from "../schemas/sources";
import { ProblemError } from "../shared/problem";
import { budgetAccount } from "./budget";
import type { Credential } from "./credential";
import { parseUpstreamJson, type UpstreamInfo, type UpstreamResponse, upstreamFetch, upstreamProblem } from "./fetch";
import { currentUpstreamScope, newUpstreamScope, type UpstreamScope } from "./scope";

interface UpstreamErrorBody {
  code: string | number | null;
  errorId: string | null;
  message: string | null;
}

export interface UpstreamClientOptions {
  provider: Provider;
  /** The provider's name as problems show it, e.g. "Inkit". */
  name: string;
  /** The request header a caller passes its own credential in, named when that credential is malformed. */
  passThroughHeader: string;
  /** Prepares a body schema for validation (providers/validate: precompiled where that is faster). */
  validator: <S extends z.ZodType>(schema: S) => S;
  baseUrl: string;
  credential: Credential;
  timeoutMs: number;
  /** Headers that carry the credential, as the upstream expects them. */
  authHeaders: (credential: string) => Record<string, string>;
  /** Provider-specific error rules; return null to fall back to the generic mapping. */
  mapError: (status: number, body: UpstreamErrorBody, info: UpstreamInfo) => ProblemError | null;
}

/** Best-effort read of an upstream error body: its code, error id and message, when it has them. */
function readErrorBody(res: UpstreamResponse): UpstreamErrorBody {
  let body: unknown = null;
  try {
    body = JSON.parse(res.text);
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
function genericError(name: string, credential: Credential, info: UpstreamInfo): ProblemError {
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

/** Items an upstream body lists: a bare array (8x8), an `items` array (Inkit pages), or one item. */
function itemsIn(body: unknown): number {
  if (Array.isArray(body)) return body.length;
  const items = typeof body === "object" && body !== null ? (body as { items?: unknown }).items : undefined;
  return Array.isArray(items) ? items.length : 1;
}

/** A credential fit for an HTTP header: visible ASCII, no spaces. Anything else never leaves the worker. */
const HEADER_TOKEN = /^[\x21-\x7e]{1,4096}$/;

function checkCredential(opts: UpstreamClientOptions, credential: Credential): void {
  if (HEADER_TOKEN.test(credential.value)) return;
  const { provider, name, passThroughHeader } = opts;
  const info: UpstreamInfo = { provider, status: null, code: null, error_id: null };
  if (credential.passThrough) {
    throw new ProblemError("unauthorized", {
      detail: `The credential sent in ${passThroughHeader} is malformed: expected visible ASCII characters without spaces.`,
      errors: [{ in: "header", name: passThroughHeader.toLowerCase(), message: "Malformed credential." }],
      headers: { "WWW-Authenticate": 'Bearer realm="tributary"' },
    });
  }
  throw upstreamProblem("upstream-auth", info, `This deployment's ${name} credential is missing or malformed.`);
}

/**
 * HTTP access to one upstream: authenticates, retries within the request's budget behind the upstream's
 * circuit breaker (see `upstreamFetch`), validates bodies, and maps errors to problems naming the provider.
 * The budget and policy come from the request's scope (`upstreamScope` middleware); outside a request the
 * client starts its own budget, with the default policy, at its first call.
 */
export function upstreamClient(opts: UpstreamClientOptions) {
  const { provider, name, baseUrl, credential, timeoutMs } = opts;
  let ownScope: UpstreamScope | undefined;
  return {
    /** GETs `path` with `query` and validates the body against `schema`. */
    async get<S extends z.ZodType>(path: string, query: Record<string, string>, schema: S): Promise<z.infer<S>> {
      checkCredential(opts, credential);
      const url = new URL(path, baseUrl);
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
      if (!ownScope) ownScope = newUpstreamScope(DEFAULT_CONFIG);
      const scope = currentUpstreamScope() ?? ownScope;
      const account = scope.budget ? await budgetAccount(provider, credential) : undefined;
      const res = await staged("reads", () =>
        upstreamFetch({
          provider,
          name,
          url: url.toString(),
          headers: opts.authHeaders(credential.value),
          timeoutMs,
          scope,
          // A 429 to a caller's own account or a tenant's connection says nothing of the deployment's.
          rateLimitIsShared: !credential.passThrough && !credential.connection,
          ...(account ? { account } : {}),
        }),
      );
      if (res.status >= 200 && res.status < 300) {
        try {
          const body = staged("parse and normalize", () =>
            parseUpstreamJson(provider, name, res, opts.validator(schema)),
          );
          if (res.call) res.call.items = itemsIn(body);
          return body;
        } catch (err) {
          if (res.call) res.call.errorType = "invalid_response";
          throw err;
        }
      }
      const body = readErrorBody(res);
      const info: UpstreamInfo = { provider, status: res.status, code: body.code, error_id: body.errorId };
      if (credential.connection && (res.status === 401 || res.status === 403)) {
        throw await credential.connection.rejected(info);
      }
      throw opts.mapError(res.status, body, info) ?? genericError(name, credential, info);
    },
  };
}
