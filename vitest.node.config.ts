import { defineConfig } from "vitest/config";

// Tests that run in Node and call the worker under `wrangler dev` with Node's own fetch, as outside clients do.
// `npm test` runs them after the workerd suite (vitest.config.ts).
export default defineConfig({
  test: {
    name: "node",
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./test/node/worker.setup.ts"],
    testTimeout: 30_000,
  },
});
