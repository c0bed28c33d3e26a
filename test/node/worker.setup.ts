// Global setup of the Node-side tests: both simulators in this process and the worker under `wrangler dev`, so the
// tests call it the way outside clients do, with Node's own fetch (undici) over loopback.
import { createWriteStream, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { freePort, spawnTracked, stopChild } from "../../scripts/proc";
import { startSimulators } from "../../simulator/server";

declare module "vitest" {
  export interface ProvidedContext {
    workerUrl: string;
    apiKey: string;
    inkitUrl: string;
  }
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const STATE = join(ROOT, ".tmp", "node-tests");

export default async function setup(project: TestProject) {
  const sims = await startSimulators({ inkitPort: 0, eightByEightPort: 0 });
  const [port, inspectorPort] = [await freePort(), await freePort()];
  // The simulators start from the same seeded world every run: so does the worker's local state (KV cache included).
  rmSync(STATE, { recursive: true, force: true });
  mkdirSync(STATE, { recursive: true });
  const log = createWriteStream(join(STATE, "wrangler.log"));
  const child = spawnTracked(
    join(ROOT, "node_modules/.bin/wrangler"),
    [
      "dev",
      `--env-file=${join(ROOT, ".dev.vars.example")}`,
      "--ip=127.0.0.1",
      `--port=${port}`,
      `--inspector-port=${inspectorPort}`,
      `--persist-to=${join(STATE, "state")}`,
      "--show-interactive-dev-session=false",
      `--var=INKIT_BASE_URL:${sims.inkitUrl}`,
      `--var=EIGHTBYEIGHT_BASE_URL:${sims.eightByEightUrl}`,
      "--var=LOG_LEVEL:off",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" } },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const stop = async () => {
    await stopChild(child);
    await sims.close();
  };

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited during start-up; see ${join(STATE, "wrangler.log")}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev was not healthy within 120 s; see ${join(STATE, "wrangler.log")}`);
    }
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const apiKey = /^API_KEYS="?([^,"\n]+)/m.exec(readFileSync(join(ROOT, ".dev.vars.example"), "utf8"))?.[1];
  if (!apiKey) throw new Error("no API_KEYS in .dev.vars.example");
  project.provide("workerUrl", origin);
  project.provide("apiKey", apiKey);
  project.provide("inkitUrl", sims.inkitUrl);
  return stop;
}
