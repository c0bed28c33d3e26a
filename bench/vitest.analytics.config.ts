// Part 7 (the cost of writing Analytics Engine data points) runs inside workerd through the same plugin as the tests,
// with the project's wrangler.toml (so miniflare's ANALYTICS binding), against the simulators the hot-path setup
// starts: only bench/analytics/*.bench-test.ts, never part of `npm test`.
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
  test: {
    include: ["bench/analytics/*.bench-test.ts"],
    globalSetup: ["./bench/hotpath/setup.ts"],
    testTimeout: 120_000,
  },
});
