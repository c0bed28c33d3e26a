import { createRouter } from "../../http/router";
import * as handlers from "./meta.handlers";
import * as routes from "./meta.routes";

export const metaRouter = createRouter()
  .openapi(routes.health, handlers.health)
  .openapi(routes.getProblemType, handlers.getProblemType);
