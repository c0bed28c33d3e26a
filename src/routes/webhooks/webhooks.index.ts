import { idempotent } from "../../http/idempotency";
import { withStorage } from "../../http/readiness";
import { createRouter } from "../../http/router";
import * as handlers from "./webhooks.handlers";
import * as routes from "./webhooks.routes";

// Every endpoint route reads D1; the ones that queue a delivery need the queue too. Every POST honours
// Idempotency-Key, once the storage its keys live in is known to be there.
export const webhooksRouter = createRouter()
  .openapi(routes.create, withStorage(["DB"], idempotent(routes.create, handlers.create)))
  .openapi(routes.list, withStorage(["DB"], handlers.list))
  .openapi(routes.get, withStorage(["DB"], handlers.get))
  .openapi(routes.update, withStorage(["DB"], handlers.update))
  .openapi(routes.remove, withStorage(["DB"], handlers.remove))
  .openapi(routes.rotateSecret, withStorage(["DB"], idempotent(routes.rotateSecret, handlers.rotateSecret)))
  .openapi(routes.sendTest, withStorage(["DB", "WEBHOOK_QUEUE"], idempotent(routes.sendTest, handlers.sendTest)))
  .openapi(routes.replay, withStorage(["DB", "WEBHOOK_QUEUE"], idempotent(routes.replay, handlers.replay)));
