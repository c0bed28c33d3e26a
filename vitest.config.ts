import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { configDefaults, defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";
import { TEST_RATE_LIMITS, testBindings } from "./test/setup/bindings.ts";

// The webhook store's schema, applied by the webhook tests with applyD1Migrations.
const migrations = await readD1Migrations("./migrations");

// wrangler.toml as wrangler itself reads it, for tests that check it is consistent with itself (the rate limiter's
// `simple` limit against the vars that announce it): the test runtime overrides some of these bindings.
const declared = unstable_readConfig({ config: "./wrangler.toml" });

/** A closed port: where the unit project's upstreams are. */
const NOWHERE = "http://127.0.0.1:9";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          // The unit project starts no simulator: its upstream URLs point nowhere, so a call would fail at once.
          ...testBindings({
            inkitUrl: inject<string | undefined>("inkitUrl") ?? NOWHERE,
            eightByEightUrl: inject<string | undefined>("eightByEightUrl") ?? NOWHERE,
          }),
          TEST_MIGRATIONS: migrations,
          TEST_DECLARED: { ratelimits: declared.ratelimits, vars: declared.vars },
          // Fuzzers' seed and replay path (test/support/fuzz.ts); the workers runtime has no process.env.
          TEST_FUZZ: { seed: process.env.FUZZ_SEED ?? null, path: process.env.FUZZ_PATH ?? null },
        },
        ratelimits: TEST_RATE_LIMITS,
        // Databases for deployments that missed a step: one never migrated, one migrated by a test step by step.
        d1Databases: { TEST_BARE_DB: "tributary-test-bare", TEST_UPGRADE_DB: "tributary-test-upgrade" },
      },
    })),
  ],
  test: {
    testTimeout: 30_000,
    // Vitest's default is one worker fewer than the cores: on 2 cores, one file at a time for the whole run.
    maxWorkers: 2,
    // Two layers. Unit: pure modules, no simulator, files in parallel. Integration: the worker against the
    // simulators over HTTP; one simulator serves every file and tests read its request counters, so files run
    // one at a time. Node-side tests against `wrangler dev` have their own config (vitest.node.config.ts).
    projects: [
      // Unit files are CPU-bound (the property tests most), so they get more time when the machine is shared.
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 120_000 } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, "test/node/**", "test/unit/**"],
          globalSetup: ["./test/setup/simulators.ts", "./test/setup/webhook-consumer.ts"],
          fileParallelism: false,
        },
      },
    ],
  },
});
