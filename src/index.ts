import { createApp } from "./app";
import { onQueue, onScheduled } from "./webhooks/cron-and-queue";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: (_controller, env, ctx) => onScheduled(env, ctx),
  queue: (batch, env, ctx) => onQueue(batch, env, ctx),
} satisfies ExportedHandler<Env>;
