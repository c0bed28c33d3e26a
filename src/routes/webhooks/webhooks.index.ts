import { withStorage } from "../../http/readiness";
import { createRouter } from "../../http/router";
import * as handlers from "./webhooks.handlers";
import * as routes from "./webhooks.routes";

// Every endpoint route reads D1; the ones that queue a delivery need the queue too.
export const webhooksRouter = createRouter()
  .openapi(routes.create, withStorage(["DB"], handlers.create))
  .openapi(routes.list, withStorage(["DB"], handlers.list))
  .openapi(routes.get, withStorage(["DB"], handlers.get))
  .openapi(routes.update, withStorage(["DB"], handlers.update))
  .openapi(routes.remove, withStorage(["DB"], handlers.remove))
  .openapi(routes.rotateSecret, withStorage(["DB"], handlers.rotateSecret))
  .openapi(routes.sendTest, withStorage(["DB", "WEBHOOK_QUEUE"], handlers.sendTest))
  .openapi(routes.replay, withStorage(["DB", "WEBHOOK_QUEUE"], handlers.replay));
