import { idempotent } from "../../http/idempotency";
import { withStorage } from "../../http/readiness";
import { createRouter } from "../../http/router";
import * as handlers from "./connections.handlers";
import * as routes from "./connections.routes";

export const connectionsRouter = createRouter()
  .openapi(routes.create, withStorage(["DB"], idempotent(routes.create, handlers.create)))
  .openapi(routes.list, withStorage(["DB"], handlers.list))
  .openapi(routes.get, withStorage(["DB"], handlers.get))
  .openapi(routes.update, withStorage(["DB"], handlers.update))
  .openapi(routes.remove, withStorage(["DB"], handlers.remove))
  .openapi(routes.test, withStorage(["DB"], idempotent(routes.test, handlers.test)));
