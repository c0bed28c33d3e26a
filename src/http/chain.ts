import type { Context, MiddlewareHandler } from "hono";

/**
 * Middleware run in order, each around the rest, as nested `app.use` calls would run them: composed once, where
 * hono/combine's `every` composes its list again on every request.
 * @example chain(listingCache, notModified, readyPages)
 */
export function chain(...middleware: MiddlewareHandler[]): MiddlewareHandler {
  return (c, next) => {
    const run = async (i: number): Promise<void> => {
      const current = middleware[i];
      if (!current) return next();
      await current(c, () => run(i + 1));
    };
    return run(0);
  };
}

/**
 * `middleware`, except on the paths `skip` tells: a plain check where hono/combine's `except` matches a router and
 * composes its middleware on every request.
 * @example unless((path) => path.startsWith("/v1/inbound/"), apiKeyAuth)
 */
export function unless(skip: (path: string, c: Context) => boolean, middleware: MiddlewareHandler): MiddlewareHandler {
  return (c, next) => (skip(c.req.path, c) ? next() : middleware(c, next));
}
