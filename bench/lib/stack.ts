// The system under test: the simulators (bench/sim-server.ts) and the worker under `wrangler dev`, wired together
// on free loopback ports, the way scripts/start.ts wires them for `npm start`.
import type { ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  freePort,
  runToEnd,
  type SimulatorProcess,
  spawnTracked,
  startSimulatorProcess,
  stopChild,
} from "../../scripts/proc";

/** SUBREQUEST_LIMIT under the bench (see startWorker). */
export const BENCH_SUBREQUEST_LIMIT = 1000;

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The demo API key of .dev.vars.example (the first of API_KEYS). */
export function demoApiKey(): string {
  const key = /^API_KEYS="?([^,"\n]+)/m.exec(readFileSync(join(ROOT, ".dev.vars.example"), "utf8"))?.[1];
  if (!key) throw new Error("no API_KEYS in .dev.vars.example");
  return key;
}

/** The bench's simulators (bench/sim-server.ts), in a process of their own. */
export function startSimulators(): Promise<SimulatorProcess> {
  return startSimulatorProcess("bench/sim-server.ts", ROOT);
}

/** Upstream call and item counts per listing key, as counted by bench/sim-server.ts. */
export interface SimStats {
  calls: Record<string, number>;
  items: Record<string, number>;
  last: Record<string, string>;
}

export async function simStats(baseUrl: string, reset = false): Promise<SimStats> {
  const res = await fetch(`${baseUrl}/__bench/stats`, { method: reset ? "DELETE" : "GET" });
  return (await res.json()) as SimStats;
}

/** A simulator admin call (/__admin, see simulator/README.md). */
export async function admin<T = unknown>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}/__admin${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * The worker's configuration for the bench: wrangler.toml as it is, with absolute paths (the file lives under
 * bench/results/) and the rate limiter's `simple.limit` raised so the load generator is not answered 429. The
 * limiter binding is still called on every request; only its threshold changes.
 */
async function benchConfig(dir: string): Promise<string> {
  // Read by wrangler itself, in a child process: importing wrangler here would install its own SIGINT/SIGTERM
  // handlers, which exit at once (status 0) instead of letting the bench stop its children.
  const read = await runToEnd(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      'import { experimental_readRawConfig as read } from "wrangler"; console.log(JSON.stringify(read({ config: "wrangler.toml" }).rawConfig));',
    ],
    { cwd: ROOT, timeoutMs: 60_000 },
  );
  if (read.code !== 0) throw new Error(`could not read wrangler.toml: ${read.stderr}`);
  const config = JSON.parse(read.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown> & {
    main?: string;
    assets?: { directory?: string };
    build?: { command?: string; cwd?: string };
    d1_databases?: { migrations_dir?: string }[];
    ratelimits?: { simple?: { limit: number; period: number } }[];
  };
  if (config.main) config.main = resolve(ROOT, config.main);
  if (config.assets?.directory) config.assets.directory = resolve(ROOT, config.assets.directory);
  if (config.build?.command) config.build.cwd = resolve(ROOT, config.build.cwd ?? ".");
  for (const d1 of config.d1_databases ?? []) d1.migrations_dir = resolve(ROOT, d1.migrations_dir ?? "migrations");
  for (const limiter of config.ratelimits ?? []) if (limiter.simple) limiter.simple.limit = 1_000_000_000;
  const path = join(dir, "wrangler.bench.json");
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export interface Worker {
  origin: string;
  child: ChildProcess;
  /** Spawn of `wrangler dev` → its "Ready on" line, and → the first 200 from /healthz. */
  startup: { readyLineMs: number | null; firstHealthyMs: number; firstHealthzLatencyMs: number };
  stop(): Promise<void>;
}

export async function startWorker(sims: SimulatorProcess, dir: string): Promise<Worker> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const origin = `http://127.0.0.1:${port}`;
  const config = await benchConfig(dir);
  const state = join(dir, "state");
  // The D1 store (webhooks, saved feeds), as scripts/start.ts prepares it for `npm start`.
  const migrated = await runToEnd(
    join(ROOT, "node_modules/.bin/wrangler"),
    ["d1", "migrations", "apply", "DB", "--local", `--config=${config}`, `--persist-to=${state}`],
    { cwd: ROOT, timeoutMs: 60_000, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" } },
  );
  if (migrated.code !== 0) throw new Error(`applying the D1 migrations failed: ${migrated.stderr || migrated.stdout}`);
  const log = createWriteStream(join(dir, "wrangler.log"));
  const started = performance.now();
  const child = spawnTracked(
    join(ROOT, "node_modules/.bin/wrangler"),
    [
      "dev",
      `--config=${config}`,
      `--env-file=${join(ROOT, ".dev.vars.example")}`,
      "--ip=127.0.0.1",
      `--port=${port}`,
      `--inspector-port=${inspectorPort}`,
      `--persist-to=${state}`,
      "--show-interactive-dev-session=false",
      `--var=INKIT_BASE_URL:${sims.inkitUrl}`,
      `--var=EIGHTBYEIGHT_BASE_URL:${sims.eightByEightUrl}`,
      // The paid plan's room (wrangler.toml has the free plan's 50 calls and 20 sources a first page): a first page of
      // part 6's 100-source feed reads every source once. No other part's page comes near 50 calls or 20 sources.
      `--var=SUBREQUEST_LIMIT:${BENCH_SUBREQUEST_LIMIT}`,
      "--var=FEED_FIRST_PAGE_SOURCES:100",
      // The simulators have no rate limit here: every call still draws from its account's budget (its round trips are
      // part of what is measured), but the deployed default (300 calls a minute) would refuse the walks' thousands.
      "--var=UPSTREAM_ACCOUNT_CALLS_PER_MINUTE:600000",
      "--var=UPSTREAM_ACCOUNT_BURST_SECONDS:60",
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
    },
  );
  child.stderr?.pipe(log);
  let readyLineMs: number | null = null;
  child.stdout?.on("data", (chunk: Buffer) => {
    if (readyLineMs === null && chunk.toString("utf8").includes("Ready on")) readyLineMs = performance.now() - started;
  });
  child.stdout?.pipe(log);

  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  let firstHealthzLatencyMs = 0;
  for (;;) {
    if (exited) throw new Error(`wrangler dev exited during startup; see ${join(dir, "wrangler.log")}`);
    if (performance.now() - started > 120_000) {
      await stopChild(child);
      throw new Error(`the worker was not healthy within 120 s; see ${join(dir, "wrangler.log")}`);
    }
    const t = performance.now();
    try {
      if ((await fetch(`${origin}/healthz`)).ok) {
        firstHealthzLatencyMs = performance.now() - t;
        break;
      }
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  const firstHealthyMs = performance.now() - started;
  return {
    origin,
    child,
    startup: { readyLineMs, firstHealthyMs, firstHealthzLatencyMs },
    stop: () => stopChild(child),
  };
}
