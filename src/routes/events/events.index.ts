import { withStorage } from "../../http/readiness";
import { createRouter } from "../../http/router";
import * as handlers from "./events.handlers";
import * as routes from "./events.routes";

export const eventsRouter = createRouter()
  .openapi(routes.list, withStorage(["DB"], handlers.list))
  .openapi(routes.get, withStorage(["DB"], handlers.get))
  .openapi(routes.attempts, withStorage(["DB"], handlers.attempts));
