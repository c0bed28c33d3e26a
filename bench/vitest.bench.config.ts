// The hot-path bench runs inside workerd through the same plugin as the tests (vitest.config.ts), with the
// project's wrangler.toml (compatibility date and flags), but only bench/hotpath/*.bench-test.ts: never part of `npm test`.
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
  test: {
    include: ["bench/hotpath/*.bench-test.ts"],
    globalSetup: ["./bench/hotpath/setup.ts"],
    testTimeout: 120_000,
  },
});
