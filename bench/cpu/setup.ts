// Global setup of the CPU bench (Node side): starts the simulators as the tests do (the bench records their answers
// once, then the isolate answers every upstream call from memory), a loopback collector the bench inside workerd
// posts its figures to, and `/cpu`: the CPU time the workerd process has used so far, read from Linux's
// /proc/<pid>/task/*/schedstat (nanoseconds on CPU, every thread), so the bench can bracket a batch of invocations
// with it. Time another process spends on the machine's cores is not in it, unlike the isolate's wall clock.
import { readdirSync, readFileSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { startSimulators } from "../../simulator/server";
import { startCollector } from "../lib/collector";

/** Parent pid and command name of each process, from /proc. */
function processTable(): { pid: number; ppid: number; comm: string }[] {
  const rows: { pid: number; ppid: number; comm: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      rows.push({ pid: Number(name), ppid, comm });
    } catch {
      // The process ended while listed.
    }
  }
  return rows;
}

/** The workerd processes descended from this one (the pool's runtime), never another run's. */
function ownWorkerd(): number[] {
  const rows = processTable();
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows) {
      if (!mine.has(r.pid) && mine.has(r.ppid)) {
        mine.add(r.pid);
        grew = true;
      }
    }
  }
  return rows.filter((r) => mine.has(r.pid) && r.comm.startsWith("workerd")).map((r) => r.pid);
}

/** Nanoseconds on CPU so far, summed over every thread of the given processes. */
function cpuNs(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // The thread ended while listed.
      }
    }
  }
  return total;
}

export default async function setup(project: TestProject) {
  const out = process.env.BENCH_CPU_OUT;
  const sims = await startSimulators({ inkitPort: 0, eightByEightPort: 0 });
  let pids: number[] = [];
  const collector = await startCollector(out, (path) => {
    if (path !== "/cpu") return null;
    if (pids.length === 0) pids = ownWorkerd();
    return String(pids.length === 0 ? -1 : cpuNs(pids));
  });
  const origin = collector.origin;
  project.provide("cpuInkitUrl", sims.inkitUrl);
  project.provide("cpuEightByEightUrl", sims.eightByEightUrl);
  project.provide("cpuCollectorUrl", origin);
  return async () => {
    await collector.close();
    await sims.close();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    cpuInkitUrl: string;
    cpuEightByEightUrl: string;
    cpuCollectorUrl: string;
  }
}
