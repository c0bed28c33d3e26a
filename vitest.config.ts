import { readdirSync } from "node:fs";
import { cloudflarePool, cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig, type Plugin } from "vitest/config";
import { unstable_readConfig } from "wrangler";
import { TEST_RATE_LIMITS, testBindings } from "./test/setup/bindings.ts";
import { leaseSimulators, type SimulatorLease } from "./test/setup/simulator-pool.ts";

// Test files live in test/unit/ and test/integration/ (this config) or test/node/ (vitest.node.config.ts): one anywhere
// else would run in no project, silently, so it stops the run instead.
const TEST_FOLDERS = ["unit/", "integration/", "node/"];
const strays = readdirSync("test", { recursive: true, encoding: "utf8" }).filter(
  (f) => f.endsWith(".test.ts") && !TEST_FOLDERS.some((folder) => f.startsWith(folder)),
);
if (strays.length > 0) throw new Error(`test files outside ${TEST_FOLDERS.join(", ")}: ${strays.join(", ")}`);

// The webhook store's schema, applied by the webhook tests with applyD1Migrations.
const migrations = await readD1Migrations("./migrations");

// wrangler.toml as wrangler itself reads it, for tests that check it is consistent with itself (the rate limiter's
// `simple` limit against the vars that announce it): the test runtime overrides some of these bindings.
const declared = unstable_readConfig({ config: "./wrangler.toml" });

/** A closed port: where the unit project's upstreams are. */
const NOWHERE = "http://127.0.0.1:9";

/** The options of one test runtime whose upstreams are at these URLs. */
function workersOptions(upstreams: { inkitUrl: string; eightByEightUrl: string }) {
  return {
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      bindings: {
        ...testBindings(upstreams),
        TEST_MIGRATIONS: migrations,
        TEST_DECLARED: { ratelimits: declared.ratelimits, vars: declared.vars },
        // Fuzzers' seed and replay path (test/support/fuzz.ts); the workers runtime has no process.env.
        TEST_FUZZ: { seed: process.env.FUZZ_SEED ?? null, path: process.env.FUZZ_PATH ?? null },
      },
      ratelimits: TEST_RATE_LIMITS,
      // Databases for deployments that missed a step: one never migrated, one migrated by a test step by step.
      d1Databases: { TEST_BARE_DB: "tributary-test-bare", TEST_UPGRADE_DB: "tributary-test-upgrade" },
    },
  };
}

/**
 * In the integration project, every test runtime (one per worker, shared by the files it runs) gets a simulator pair
 * of its own (test/setup/simulator-pool.ts) as its upstreams, leased as it starts and given back once it has stopped
 * (so not while its background work may still call it): files run side by side, each reading and resetting its own
 * counters, faults and settings.
 */
function leasedSimulators(projectName: string): Plugin {
  return {
    name: "tributary:leased-simulators",
    configureVitest({ project }) {
      if (project.name !== projectName) return;
      const name = project.config.pool;
      if (project.config.poolRunner?.name !== name) throw new Error("the workers pool must be configured first");
      project.config.poolRunner = {
        name,
        createPoolWorker(options) {
          let lease: SimulatorLease | undefined;
          const worker = cloudflarePool(async () => {
            lease = await leaseSimulators();
            return workersOptions(lease);
          }).createPoolWorker(options);
          const stop = worker.stop.bind(worker);
          worker.stop = async () => {
            try {
              await stop();
            } finally {
              lease?.release();
              lease = undefined;
            }
          };
          return worker;
        },
      };
    },
  };
}

export default defineConfig({
  plugins: [
    // The unit project starts no simulator: its upstream URLs point nowhere, so a call would fail at once.
    cloudflareTest(() => workersOptions({ inkitUrl: NOWHERE, eightByEightUrl: NOWHERE })),
    leasedSimulators("integration"),
  ],
  test: {
    testTimeout: 30_000,
    // Two files at a time: one per core of a 2-core machine.
    maxWorkers: 2,
    // Two layers, unit first. Unit: pure modules, no simulator. Integration: the worker against simulators over
    // HTTP, a pair of its own per file. Node-side tests against `wrangler dev` have their own config
    // (vitest.node.config.ts).
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Unit files are CPU-bound (the property tests most), so they get more time when the machine is shared.
          testTimeout: 120_000,
          // Unit files call pure functions and build their own instances (none reaches the state a module keeps per
          // isolate: breakers, in-flight reads, pending cache writes), so they share runtimes, one per worker, instead
          // of starting one each: a runtime costs seconds to start and to load its modules, most unit files less.
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          sequence: { groupOrder: 1 },
          // Two files run at once, and the heaviest tests (a stream of a thousand deliveries) and set-ups (an
          // organisation of a hundred sources) take a good part of the default timeouts alone: room for a shared
          // machine, as the unit files get.
          testTimeout: 60_000,
          hookTimeout: 60_000,
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["./test/setup/simulators.ts", "./test/setup/webhook-consumer.ts"],
          // Files share runtimes, one per worker, each with its simulator pair: starting a runtime and loading the
          // worker's modules cost seconds, more than most files take. test/setup/fresh-file.ts gives each file the
          // state a runtime of its own would start with.
          isolate: false,
          setupFiles: ["./test/setup/fresh-file.ts"],
        },
      },
    ],
  },
});
