// The CPU bench runs inside workerd through the same plugin as the tests (vitest.config.ts), with the project's
// wrangler.toml as it is (its vars are the defaults measured), the secrets of .dev.vars.example and the simulators of
// bench/cpu/setup.ts; only bench/cpu/*.bench-test.ts, never part of `npm test`.
import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { exampleDevVars } from "./lib/dev-vars";

const root = fileURLToPath(new URL("..", import.meta.url));

const devVars = exampleDevVars(root);

const migrations = await readD1Migrations(`${root}/migrations`);

export default defineConfig({
  root,
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ...devVars,
          INKIT_BASE_URL: inject("cpuInkitUrl"),
          EIGHTBYEIGHT_BASE_URL: inject("cpuEightByEightUrl"),
          BENCH_MIGRATIONS: migrations,
          // Every upstream call still draws from its account's budget (the runtime's own UpstreamBudget object, its
          // round trips counted), at the bench stack's rate (bench/lib/stack.ts): the deployed 300 a minute would
          // refuse the bench's thousands. The batch an isolate takes at once stays the default.
          UPSTREAM_ACCOUNT_CALLS_PER_MINUTE: "600000",
          UPSTREAM_ACCOUNT_BURST_SECONDS: "60",
          // Some request types only, by id (comma-separated), when measuring one change: the guard then sees only them.
          BENCH_CPU_ONLY: process.env.BENCH_CPU_ONLY ?? "",
          // Another backlog for the detection check's row, and open runs watched before it (cpu.bench-test.ts).
          BENCH_CHECK_BACKLOG: process.env.BENCH_CHECK_BACKLOG ?? "",
          BENCH_CHECK_OPEN: process.env.BENCH_CHECK_OPEN ?? "",
          BENCH_CHECK_SOURCE: process.env.BENCH_CHECK_SOURCE ?? "",
          BENCH_CHECK_BASELINE: process.env.BENCH_CHECK_BASELINE ?? "",
        },
        // The limiter is called on every /v1 request, as in production; its limit is raised so that it never refuses.
        ratelimits: { RATE_LIMITER: { namespace_id: "7001", simple: { limit: 1_000_000, period: 60 } } },
      },
    })),
  ],
  test: {
    include: ["bench/cpu/*.bench-test.ts"],
    globalSetup: ["./bench/cpu/setup.ts"],
    testTimeout: 240_000,
    // The worker logs a line per request at its default level (info), as in production; the lines are not shown.
    onConsoleLog: () => false,
    hookTimeout: 60_000,
  },
});
