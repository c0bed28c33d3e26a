import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { testBindings } from "./test/setup/bindings.ts";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: testBindings({
          inkitUrl: inject<string>("inkitUrl"),
          eightByEightUrl: inject<string>("eightByEightUrl"),
        }),
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/setup/simulators.ts"],
    // One simulator serves every file and tests read its request counters: run files one at a time.
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
