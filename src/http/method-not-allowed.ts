import type { Context, Hono } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import { ProblemError } from "../shared/problem";

// biome-ignore lint/suspicious/noExplicitAny: any app's routes will do.
type AnyApp = Hono<any, any, any>;

const routers = new WeakMap<AnyApp, { router: TrieRouter<string>; methods: string[] }>();

/** A router over the app's routes (middleware excluded) that answers which methods a path has. */
function methodRouter(app: AnyApp) {
  let entry = routers.get(app);
  if (!entry) {
    const router = new TrieRouter<string>();
    const methods = new Set<string>();
    for (const route of app.routes) {
      if (route.method === "ALL") continue;
      router.add(route.method, route.path, route.method);
      methods.add(route.method);
    }
    entry = { router, methods: [...methods] };
    routers.set(app, entry);
  }
  return entry;
}

/** The methods `path` answers to, HEAD included wherever GET is; empty when no route has the path. */
function allowedMethods(app: AnyApp, path: string): string[] {
  const { router, methods } = methodRouter(app);
  const allowed = methods.filter((m) => router.match(m, path)[0].length > 0);
  if (allowed.includes("GET")) allowed.push("HEAD");
  return allowed;
}

/**
 * The problem for a request no route matched: 405 `method-not-allowed` with `Allow` when the path exists
 * under other methods, else 404 `not-found`. Register after every route (the router is built on first use).
 */
export function unmatchedRequest(app: AnyApp, c: Context): ProblemError {
  const allowed = allowedMethods(app, c.req.path);
  if (allowed.length > 0 && !allowed.includes(c.req.method)) {
    return new ProblemError("method-not-allowed", {
      detail: `${c.req.path} does not support ${c.req.method}; it supports ${allowed.join(", ")}.`,
      headers: { Allow: allowed.join(", ") },
    });
  }
  return new ProblemError("not-found", { detail: `No route matches ${c.req.method} ${c.req.path}.` });
}
