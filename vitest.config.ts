import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { configDefaults, defineConfig } from "vitest/config";
import { TEST_RATE_LIMITS, testBindings } from "./test/setup/bindings.ts";

// The webhook store's schema, applied by the webhook tests with applyD1Migrations.
const migrations = await readD1Migrations("./migrations");

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ...testBindings({
            inkitUrl: inject<string>("inkitUrl"),
            eightByEightUrl: inject<string>("eightByEightUrl"),
          }),
          TEST_MIGRATIONS: migrations,
        },
        ratelimits: TEST_RATE_LIMITS,
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // Node-side tests against `wrangler dev` (vitest.node.config.ts).
    exclude: [...configDefaults.exclude, "test/node/**"],
    globalSetup: ["./test/setup/simulators.ts", "./test/setup/webhook-consumer.ts"],
    // One simulator serves every file and tests read its request counters: run files one at a time.
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
