import { withStorage } from "../../http/readiness";
import { createRouter } from "../../http/router";
import * as handlers from "./inbound.handlers";
import * as routes from "./inbound.routes";

export const inboundRouter = createRouter()
  .openapi(routes.inkit, withStorage(["DB", "WEBHOOK_QUEUE"], handlers.inkit))
  .openapi(routes.eightByEight, withStorage(["DB", "WEBHOOK_QUEUE"], handlers.eightByEight));

inboundRouter.openAPIRegistry.registerComponent("securitySchemes", "inboundBearer", {
  type: "http",
  scheme: "bearer",
  description: "The `EIGHTBYEIGHT_INBOUND_SECRET` of the deployment (only for `POST /v1/inbound/8x8`).",
});
