import { createApp } from "./app";
import { onQueue } from "./queue";
import { onScheduled } from "./scheduled";

export { EndpointPacer } from "./delivery/pacer";
export { UpstreamBudget } from "./upstream/budget-object";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: (_controller, env, ctx) => onScheduled(env, ctx),
  queue: (batch, env, ctx) => onQueue(batch, env, ctx),
} satisfies ExportedHandler<Env>;
