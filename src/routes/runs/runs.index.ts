import { createRouter } from "../../http/router";
import * as handlers from "./runs.handlers";
import * as routes from "./runs.routes";

export const runsRouter = createRouter().openapi(routes.listRuns, handlers.listRuns);
