// The detection bench runs inside workerd through the same plugin as the tests (vitest.config.ts), with the
// project's wrangler.toml, the secrets of .dev.vars.example (as the other bench parts use them) and the simulators
// of bench/detection/setup.ts; only bench/detection/*.bench-test.ts, never part of `npm test`.
import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { exampleDevVars } from "./lib/dev-vars";

const root = fileURLToPath(new URL("..", import.meta.url));

const devVars = exampleDevVars(root);

// The webhook store's schema, applied by the bench with applyD1Migrations.
const migrations = await readD1Migrations(`${root}/migrations`);

export default defineConfig({
  root,
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ...devVars,
          INKIT_BASE_URL: inject("detectionInkitUrl"),
          EIGHTBYEIGHT_BASE_URL: inject("detectionEightByEightUrl"),
          // Only warnings and errors: a line per notable check would bury a failure's output.
          LOG_LEVEL: "warn",
          BENCH_MIGRATIONS: migrations,
        },
      },
    })),
  ],
  test: {
    include: ["bench/detection/*.bench-test.ts"],
    globalSetup: ["./bench/detection/setup.ts"],
    testTimeout: 150_000,
    hookTimeout: 60_000,
  },
});
