import { idempotent } from "../../http/idempotency";
import { withStorage } from "../../http/readiness";
import { createRouter } from "../../http/router";
import * as handlers from "./feeds.handlers";
import * as routes from "./feeds.routes";

export const feedsRouter = createRouter()
  .openapi(routes.create, withStorage(["DB"], idempotent(routes.create, handlers.create)))
  .openapi(routes.list, withStorage(["DB"], handlers.list))
  .openapi(routes.get, withStorage(["DB"], handlers.get))
  .openapi(routes.remove, withStorage(["DB"], handlers.remove));
