// `npm start`: both upstream simulators plus the worker under `wrangler dev`, wired together, no hand edits.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { startSimulators } from "../simulator/server";
import { inkitPageSizeCapFromEnv } from "../simulator/shared/settings";

const port = Number(process.env.PORT ?? 8787);
const origin = `http://127.0.0.1:${port}`;

// Local secrets: copy the example, or add the keys a newer version introduced to an existing .dev.vars.
if (!existsSync(".dev.vars")) copyFileSync(".dev.vars.example", ".dev.vars");
const names = (text: string) => new Set([...text.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
const have = names(readFileSync(".dev.vars", "utf8"));
const missing = readFileSync(".dev.vars.example", "utf8")
  .split("\n")
  .filter((line) => /^[A-Z0-9_]+=/.test(line) && !have.has(line.slice(0, line.indexOf("="))));
if (missing.length > 0) appendFileSync(".dev.vars", `\n${missing.join("\n")}\n`);
const demoKey = /^API_KEYS="?([^,"\n]+)/m.exec(readFileSync(".dev.vars", "utf8"))?.[1] ?? "(see API_KEYS in .dev.vars)";

const sims = await startSimulators({
  inkitPort: Number(process.env.SIM_INKIT_PORT ?? 4010),
  eightByEightPort: Number(process.env.SIM_8X8_PORT ?? 4020),
  inkitPageSizeCap: inkitPageSizeCapFromEnv(process.env.SIM_INKIT_PAGE_SIZE_CAP),
});

// The simulators regenerate the same seeded world on every start (new items even get the same ids), so the worker's
// local state (detection state, events, cache) starts fresh too: otherwise it would remember a previous world.
// STATE_DIR moves that state elsewhere (the burst bench uses it to leave .wrangler/state alone).
const stateDir = process.env.STATE_DIR;
rmSync(stateDir ?? ".wrangler/state", { recursive: true, force: true });
const persistTo = stateDir ? [`--persist-to=${stateDir}`] : [];

// The webhook store: apply D1 migrations to the local database `wrangler dev` uses (idempotent, non-interactive).
const migrated = spawnSync("node_modules/.bin/wrangler", ["d1", "migrations", "apply", "DB", "--local", ...persistTo], {
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
if (migrated.status !== 0) {
  await sims.close();
  throw new Error("applying the local D1 migrations failed (see above)");
}

// The worker as `wrangler dev --test-scheduled` runs it, minus the DevTools inspector (DEV_INSPECTOR=1 turns it on): under
// a burst of deliveries the inspector's event forwarding exhausts the runtime's file descriptors (scripts/dev-worker.ts).
const worker: ChildProcess = spawn(
  "node_modules/.bin/tsx",
  [
    "scripts/dev-worker.ts",
    `--port=${port}`,
    `--var=INKIT_BASE_URL:${sims.inkitUrl}`,
    `--var=EIGHTBYEIGHT_BASE_URL:${sims.eightByEightUrl}`,
    ...persistTo,
  ],
  { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  worker.kill("SIGTERM");
  await sims.close();
  process.exit(code);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
worker.on("exit", (code) => void stop(code ?? 1));

async function waitForHealth(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the worker did not become healthy within 150 s");
}

await waitForHealth();

// Cron Triggers do not fire under `wrangler dev`: drive change detection through its --test-scheduled route.
const cronEveryMs = Number(process.env.CRON_EVERY_SECONDS ?? 10) * 1000;
setInterval(async () => {
  try {
    const res = await fetch(`${origin}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
    await res.body?.cancel();
    if (!res.ok) console.error(`scheduled run answered ${res.status}`);
  } catch (err) {
    if (!stopping) console.error(`scheduled run failed: ${String(err)}`);
  }
}, cronEveryMs);
console.log(`
  tributary is running
    API           ${origin}/v1
    Docs          ${origin}/docs
    OpenAPI       ${origin}/openapi.json
    Demo API key  ${demoKey}
    Simulators    Inkit ${sims.inkitUrl}   8x8 ${sims.eightByEightUrl}   (admin API under /__admin)
    Cron          change detection every ${cronEveryMs / 1000} s (CRON_EVERY_SECONDS)

  try: curl -H "Authorization: Bearer ${demoKey}" "${origin}/v1/inkit/runs?limit=2"
`);
