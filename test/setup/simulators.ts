import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { spawnTracked, stopChild, waitForLine } from "../../scripts/proc";
import { registerSimulatorPool, type SimulatorLease } from "./simulator-pool";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Pair {
  inkitUrl: string;
  eightByEightUrl: string;
  child: ChildProcess;
}

/** A simulator pair on free loopback ports, in a process of its own (simulator-process.ts). */
async function startPair(): Promise<Pair> {
  const child = spawnTracked(process.execPath, ["--import", "tsx", "test/setup/simulator-process.ts"], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    const urls = await waitForLine(
      child,
      (line) => {
        try {
          return JSON.parse(line) as { inkitUrl: string; eightByEightUrl: string };
        } catch {
          return undefined;
        }
      },
      60_000,
    );
    return { ...urls, child };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

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
  const started: Promise<Pair>[] = [];
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
