import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./app-env";

const none = ["'none'"];

/** API responses are data, never rendered: nothing may load, frame or submit from them. */
const API_CSP = { defaultSrc: none, frameAncestors: none, baseUri: none, formAction: none };

/**
 * The reference UI at /docs loads only its own script and style files (/docs/*.js, /docs/*.css), the inline
 * `data:` icons its stylesheet uses, and /openapi.json; no inline script, no other origin.
 */
const DOCS_CSP = {
  defaultSrc: none,
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  frameAncestors: none,
  baseUri: none,
  formAction: none,
};

const common = { xFrameOptions: "DENY", referrerPolicy: "no-referrer" } as const;
/** hono/secure-headers' options for the API and for /docs: `SECURITY_HEADERS` holds what they set. */
export const SECURE_HEADERS_OPTIONS = {
  api: { ...common, contentSecurityPolicy: API_CSP },
  docs: { ...common, contentSecurityPolicy: DOCS_CSP },
} as const;

/** A header set on every response, its value whatever the route set. */
type FixedHeader = readonly [name: string, value: string];

/** Every header but the CSP: hono/secure-headers' defaults with `common`. */
const BASE_HEADERS: FixedHeader[] = [
  ["Cross-Origin-Resource-Policy", "same-origin"],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  ["Referrer-Policy", "no-referrer"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Frame-Options", "DENY"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
];

/**
 * What `secureHeaders(SECURE_HEADERS_OPTIONS.api)` and `(….docs)` set, written out (test/unit/security-headers.test.ts
 * holds them equal): the middleware then sets a fixed list, where hono's builds it per request and reads `c.res`
 * for every header.
 */
const SECURITY_HEADERS: { api: readonly FixedHeader[]; docs: readonly FixedHeader[] } = {
  api: [
    ...BASE_HEADERS,
    ["Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"],
  ],
  docs: [
    ...BASE_HEADERS,
    [
      "Content-Security-Policy",
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ],
  ],
};

const isDocs = (path: string) => path === "/docs" || path.startsWith("/docs/");

/** Secure headers on every response (HSTS, nosniff, no framing…), with a CSP for the API and one for /docs. */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  const fixed = isDocs(c.req.path) ? SECURITY_HEADERS.docs : SECURITY_HEADERS.api;
  await next();
  const headers = c.res.headers;
  for (const [name, value] of fixed) headers.set(name, value);
  // As secureHeaders' `removePoweredBy` (a default): a response passed through (a /docs asset) may carry one.
  headers.delete("X-Powered-By");
});

/** Request headers a browser client may send, and response headers it may read. */
const CORS_ALLOW_HEADERS = [
  "Authorization",
  "Content-Type",
  "Cache-Control",
  "If-None-Match",
  "If-Match",
  "Idempotency-Key",
  "X-Request-Id",
  "X-Inkit-API-Token",
  "X-8x8-Api-Key",
];
const CORS_EXPOSE_HEADERS = [
  "X-Request-Id",
  "Link",
  "ETag",
  "Age",
  "Cache-Status",
  "Retry-After",
  "RateLimit",
  "RateLimit-Policy",
  "Location",
  "Idempotent-Replayed",
];

const corsByOrigins = new Map<string, MiddlewareHandler>();

/**
 * CORS for the origins in `CORS_ORIGINS` (comma-separated; `*` for any), off when empty, which is the default:
 * then no CORS header is ever sent and browsers keep other origins out. Credentials (cookies) are never allowed:
 * the API authenticates with a bearer key.
 */
export const corsFromConfig = createMiddleware<AppEnv>(async (c, next) => {
  const origins = c.get("config").corsOrigins;
  if (origins.length === 0) return next();
  const key = origins.join(",");
  let handler = corsByOrigins.get(key);
  if (!handler) {
    handler = cors({
      origin: origins.includes("*") ? "*" : origins,
      allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
      allowHeaders: CORS_ALLOW_HEADERS,
      exposeHeaders: CORS_EXPOSE_HEADERS,
      maxAge: 600,
      credentials: false,
    });
    corsByOrigins.set(key, handler);
  }
  return handler(c, next);
});
