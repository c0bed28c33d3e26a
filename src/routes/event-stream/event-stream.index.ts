import { withStorage } from "../../http/readiness";
import { createRouter } from "../../http/router";
import * as handlers from "./event-stream.handlers";
import * as routes from "./event-stream.routes";

export const eventStreamRouter = createRouter().openapi(routes.stream, withStorage(["DB"], handlers.stream));
