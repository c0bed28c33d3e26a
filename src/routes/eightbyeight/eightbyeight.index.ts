import { createRouter } from "../../http/router";
import * as handlers from "./eightbyeight.handlers";
import * as routes from "./eightbyeight.routes";

export const eightByEightRouter = createRouter().openapi(routes.listRuns, handlers.listRuns);
