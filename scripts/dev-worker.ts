// The worker under wrangler's local runtime, as `wrangler dev` runs it, but without the DevTools inspector unless asked
// for (DEV_INSPECTOR=1). `npm start` runs this in a child process.
//
// Why: under `wrangler dev`, wrangler's InspectorProxyWorker subscribes to the worker's DevTools events (Runtime and
// Network) and forwards every event it receives to wrangler's Node process as a `debug-log` POST, never awaited, through
// miniflare's loopback HTTP server. Every subrequest the worker makes (fetch, D1 query, queue send, KV read) raises 3–5
// Network events, so a burst of webhook deliveries becomes tens of thousands of those POSTs, each on a loopback
// connection of its own while others are in flight: the descriptors pile up to the process limit. Without the
// inspector the events are never produced. See docs/development.md ("The local stack under load").
//
// Usage: tsx scripts/dev-worker.ts --port=8787 [--persist-to=dir] --var=NAME:value ... (plus DEV_INSPECTOR=1 for DevTools on
// INSPECTOR_PORT, 9229 by default).
import { unstable_startWorker } from "wrangler";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const port = Number(arg("port") ?? 8787);
const vars = Object.fromEntries(
  process.argv
    .filter((a) => a.startsWith("--var="))
    .map((a) => {
      const [name, ...value] = a.slice("--var=".length).split(":");
      return [name, { type: "plain_text" as const, value: value.join(":") }];
    }),
);
const inspector = process.env.DEV_INSPECTOR === "1" || process.env.DEV_INSPECTOR === "true";

const worker = await unstable_startWorker({
  config: "wrangler.toml",
  bindings: vars,
  dev: {
    server: { hostname: "127.0.0.1", port },
    inspector: inspector ? { hostname: "127.0.0.1", port: Number(process.env.INSPECTOR_PORT ?? 9229) } : false,
    testScheduled: true,
    ...(arg("persist-to") ? { persist: arg("persist-to") } : {}),
    watch: true,
    // `npm start` runs on loopback against the simulators only.
    remote: false,
  },
});
await worker.ready;
console.log(`[dev-worker] ready on ${(await worker.url).origin}${inspector ? " (DevTools inspector on)" : ""}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await worker.dispose().catch(() => {});
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
