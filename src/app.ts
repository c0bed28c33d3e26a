import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { apiKeyAuth } from "./http/auth";
import { requestBodyLimit } from "./http/body-limit";
import { cacheLayer } from "./http/caching/layer";
import { unless } from "./http/chain";
import { init } from "./http/init";
import { inputGuard } from "./http/input-guard";
import { requestLog } from "./http/logging";
import { unmatchedRequest } from "./http/method-not-allowed";
import { observe } from "./http/observe";
import { rateLimit } from "./http/rate-limit";
import { warnWithoutCache } from "./http/readiness";
import { createRouter } from "./http/router";
import { corsFromConfig, securityHeaders } from "./http/security";
import { stagedMiddleware } from "./http/staged";
import { walkProblem } from "./http/walk-problems";
import { registerOpenApi } from "./openapi/document";
import { registerWebhooks } from "./openapi/webhooks";
import { WalkError } from "./paging/errors";
import { connectionsRouter } from "./routes/connections/connections.index";
import { docsRouter } from "./routes/docs/docs.index";
import { eightByEightRouter } from "./routes/eightbyeight/eightbyeight.index";
import { eventStreamRouter } from "./routes/event-stream/event-stream.index";
import { eventSubscriptionsRouter } from "./routes/event-subscriptions/event-subscriptions.index";
import { eventsRouter } from "./routes/events/events.index";
import { feedsRouter } from "./routes/feeds/feeds.index";
import { inboundRouter } from "./routes/inbound/inbound.index";
import { inkitRouter } from "./routes/inkit/inkit.index";
import { metaRouter } from "./routes/meta/meta.index";
import { runsRouter } from "./routes/runs/runs.index";
import { webhooksRouter } from "./routes/webhooks/webhooks.index";
import { loggerOf } from "./shared/logger";
import { ProblemError, type ProblemType, problemResponse } from "./shared/problem";
import { upstreamScope } from "./upstream/scope";

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

/** The paths of inbound webhooks (`/v1/inbound/*`, as a route pattern matches it). */
const isInbound = (path: string) => path === "/v1/inbound" || path.startsWith("/v1/inbound/");

/** Builds the whole application: middleware, error model, documentation and routes. */
export function createApp() {
  const app = createRouter();

  app.use(init);
  app.use(requestId({ headerName: "X-Request-Id" }));
  // Only /v1 calls upstreams and is observed (Server-Timing, Analytics Engine): /healthz and /docs skip that work.
  app.use("/v1/*", upstreamScope);
  app.use(stagedMiddleware("log", requestLog));
  app.use("/v1/*", stagedMiddleware("metrics", observe));
  app.use(securityHeaders);
  app.use(corsFromConfig);
  app.use(inputGuard);
  // Inbound webhooks authenticate with their provider's signature or secret, not an API key.
  app.use("/v1/*", unless(isInbound, stagedMiddleware("auth", apiKeyAuth)));
  app.use("/v1/*", stagedMiddleware("rate limit", rateLimit));
  app.use("/v1/*", requestBodyLimit);
  app.use("/v1/*", warnWithoutCache);
  app.use("/v1/*", stagedMiddleware("cache", cacheLayer));

  app.route("/", metaRouter);
  app.route("/", docsRouter);
  app.route("/v1", inkitRouter);
  app.route("/v1", eightByEightRouter);
  app.route("/v1", runsRouter);
  app.route("/v1", feedsRouter);
  app.route("/v1", connectionsRouter);
  app.route("/v1", webhooksRouter);
  app.route("/v1", eventsRouter);
  app.route("/v1", eventStreamRouter);
  app.route("/v1", eventSubscriptionsRouter);
  app.route("/v1", inboundRouter);
  registerWebhooks(app);
  registerOpenApi(app);

  app.notFound((c) => problemResponse(c, unmatchedRequest(app, c)));

  app.onError((err, c) => {
    if (err instanceof ProblemError) return problemResponse(c, err);
    if (err instanceof WalkError) return problemResponse(c, walkProblem(err));
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
    loggerOf(c.env).error("unhandled error", { request_id: c.get("requestId"), error: String(err) });
    return problemResponse(
      c,
      new ProblemError("internal-error", {
        detail: "An unexpected error occurred. Quote the request_id when reporting it.",
      }),
    );
  });

  return app;
}
