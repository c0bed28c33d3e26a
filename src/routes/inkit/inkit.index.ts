import { createRouter } from "../../http/router";
import * as handlers from "./inkit.handlers";
import * as routes from "./inkit.routes";

export const inkitRouter = createRouter()
  .openapi(routes.listRuns, handlers.listRuns)
  .openapi(routes.listWorkflowBatches, handlers.listWorkflowBatches)
  .openapi(routes.listBatches, handlers.listBatches)
  .openapi(routes.getBatch, handlers.getBatch);
