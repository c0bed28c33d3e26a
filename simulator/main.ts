/**
 * Runs both simulators until SIGINT/SIGTERM:
 *   npx tsx simulator/main.ts
 * Ports come from SIM_INKIT_PORT (default 4010) and SIM_8X8_PORT (default 4020);
 * SIM_LOG=1 logs every request; SIM_INKIT_PAGE_SIZE_CAP sets Inkit's silent
 * page-size cap (default 100, "none" for no cap).
 */
import {
  EIGHT_BY_EIGHT_ACCOUNT_IDS,
  EIGHT_BY_EIGHT_API_KEYS,
  EIGHT_BY_EIGHT_DEFINITION_IDS,
  INKIT_API_TOKENS,
} from "./credentials";
import { startSimulators } from "./server";
import { inkitPageSizeCapFromEnv } from "./shared/settings";

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw new Error(`${name} must be a port number, got "${raw}"`);
  return value;
}

const started = performance.now();
const simulators = await startSimulators({
  inkitPort: port("SIM_INKIT_PORT", 4010),
  eightByEightPort: port("SIM_8X8_PORT", 4020),
  log: process.env.SIM_LOG === "1",
  inkitPageSizeCap: inkitPageSizeCapFromEnv(process.env.SIM_INKIT_PAGE_SIZE_CAP),
});
const demoDefinitions = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;

console.log(`Simulators ready in ${(performance.now() - started).toFixed(0)} ms
  Inkit  ${simulators.inkitUrl}   X-Inkit-API-Token: ${INKIT_API_TOKENS.demo}   (other tenant: ${INKIT_API_TOKENS.other})
  8x8    ${simulators.eightByEightUrl}   Authorization: Bearer ${EIGHT_BY_EIGHT_API_KEYS.demo}   (other tenant: ${EIGHT_BY_EIGHT_API_KEYS.other})
         account ${EIGHT_BY_EIGHT_ACCOUNT_IDS.demo}, definitions:
${Object.entries(demoDefinitions)
  .map(([name, id]) => `           ${id}  ${name}`)
  .join("\n")}
  e.g. curl -H 'X-Inkit-API-Token: ${INKIT_API_TOKENS.demo}' '${simulators.inkitUrl}/v1/invoke?page_size=2'
       curl -H 'Authorization: Bearer ${EIGHT_BY_EIGHT_API_KEYS.demo}' '${simulators.eightByEightUrl}/api/v1/accounts/${EIGHT_BY_EIGHT_ACCOUNT_IDS.demo}/definitions/${demoDefinitions.orderNotifications}/workflows?limit=2'
  Inkit page-size cap: ${simulators.inkit.settings.page_size_cap ?? "none"} (SIM_INKIT_PAGE_SIZE_CAP). Tied timestamps are common and served in a hidden order.
  Admin API: <base>/__admin/... (see simulator/README.md). Ctrl-C to stop.`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing simulators`);
  await simulators.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
