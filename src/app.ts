import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { cacheLayer } from "./cache/headers";
import { bearerAuth } from "./http/auth";
import { ProblemError, type ProblemType, problemResponse } from "./http/problem";
import { createRouter } from "./http/router";
import { registerOpenApi } from "./openapi/document";
import { docsRouter } from "./routes/docs/docs.index";
import { eightByEightRouter } from "./routes/eightbyeight/eightbyeight.index";
import { inkitRouter } from "./routes/inkit/inkit.index";
import { metaRouter } from "./routes/meta/meta.index";

const statusToProblem: Partial<Record<number, ProblemType>> = {
  400: "validation-error",
  401: "unauthorized",
  403: "forbidden",
  404: "not-found",
  405: "method-not-allowed",
  413: "payload-too-large",
  429: "rate-limited",
  503: "service-unavailable",
};

/** Builds the whole application: middleware, error model, documentation and routes. */
export function createApp() {
  const app = createRouter();

  app.use(requestId({ headerName: "X-Request-Id" }));
  app.use(secureHeaders());
  app.use("/v1/*", bearerAuth);
  app.use("/v1/*", cacheLayer);

  app.route("/", metaRouter);
  app.route("/", docsRouter);
  app.route("/v1", inkitRouter);
  app.route("/v1", eightByEightRouter);
  registerOpenApi(app);

  app.notFound((c) => {
    return problemResponse(
      c,
      new ProblemError("not-found", { detail: `No route matches ${c.req.method} ${c.req.path}.` }),
    );
  });

  app.onError((err, c) => {
    if (err instanceof ProblemError) return problemResponse(c, err);
    if (err instanceof HTTPException && err.status < 500) {
      const type = statusToProblem[err.status] ?? "validation-error";
      return problemResponse(
        c,
        new ProblemError(type, {
          detail: err.message || "Request rejected.",
          status: err.status as ContentfulStatusCode,
        }),
      );
    }
    console.error(
      JSON.stringify({ level: "error", msg: "unhandled error", request_id: c.get("requestId"), error: String(err) }),
    );
    return problemResponse(
      c,
      new ProblemError("internal-error", {
        detail: "An unexpected error occurred. Quote the request_id when reporting it.",
      }),
    );
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
