import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
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
const apiHeaders = secureHeaders({ ...common, contentSecurityPolicy: API_CSP });
const docsHeaders = secureHeaders({ ...common, contentSecurityPolicy: DOCS_CSP });

const isDocs = (path: string) => path === "/docs" || path.startsWith("/docs/");

/** Secure headers on every response (HSTS, nosniff, no framing…), with a CSP for the API and one for /docs. */
export const securityHeaders = createMiddleware<AppEnv>((c, next) =>
  isDocs(c.req.path) ? docsHeaders(c, next) : apiHeaders(c, next),
);

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
