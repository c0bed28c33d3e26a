import { fileURLToPath } from "node:url";
import { type SimulatorProcess, startSimulatorProcess, stopChild } from "../../scripts/proc";
import { registerSimulatorPool, type SimulatorLease } from "./simulator-pool";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A simulator pair on free loopback ports, in a process of its own (simulator-process.ts). */
const startPair = (): Promise<SimulatorProcess> => startSimulatorProcess("test/setup/simulator-process.ts", ROOT);

/** Seeded data, start-up settings, no faults, zeroed counters. */
async function reset(url: string): Promise<void> {
  const res = await fetch(`${url}/__admin/reset`, { method: "POST" });
  if (!res.ok) throw new Error(`reset ${url}: ${res.status} ${await res.text()}`);
}

/** Pairs started before the first lease: as many as files run at once. */
const WARM = 2;

/**
 * Simulator pairs leased one per integration runtime (simulator-pool.ts). A pair is started when every started one is
 * leased, so there are as many as runtimes ever live at once; a pair is reset when leased, so each runtime starts from
 * the seeded data whatever the runtime before it left behind (and test/setup/fresh-file.ts resets it before each file).
 */
export default function setup() {
  const started: Promise<SimulatorProcess>[] = [];
  const start = () => {
    const pair = startPair();
    // A pair that failed to start fails the lease that takes it, not the run.
    pair.catch(() => undefined);
    started.push(pair);
    return pair;
  };
  const free = Array.from({ length: WARM }, start);
  registerSimulatorPool({
    async lease(): Promise<SimulatorLease> {
      const next = free.shift() ?? start();
      const pair = await next;
      await Promise.all([reset(pair.inkitUrl), reset(pair.eightByEightUrl)]);
      let released = false;
      return {
        inkitUrl: pair.inkitUrl,
        eightByEightUrl: pair.eightByEightUrl,
        release() {
          if (released) return;
          released = true;
          free.push(Promise.resolve(pair));
        },
      };
    },
  });
  return async () => {
    registerSimulatorPool(undefined);
    const pairs = await Promise.allSettled(started);
    await Promise.all(pairs.flatMap((pair) => (pair.status === "fulfilled" ? [stopChild(pair.value.child)] : [])));
  };
}
