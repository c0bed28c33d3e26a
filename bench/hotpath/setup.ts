// Global setup of the hot-path bench (Node side): starts the simulators, so the bench reads real 500-item upstream
// pages, and a loopback collector that the bench inside workerd posts its results to (workerd has no file system).
import type { TestProject } from "vitest/node";
import { startSimulators } from "../../simulator/server";
import { startCollector } from "../lib/collector";

export default async function setup(project: TestProject) {
  const out = process.env.BENCH_HOTPATH_OUT;
  // No silent page-size cap: the bench reads whole 500-item pages.
  const sims = await startSimulators({ inkitPort: 0, eightByEightPort: 0, inkitPageSizeCap: null });
  const collector = await startCollector(out);
  project.provide("benchInkitUrl", sims.inkitUrl);
  project.provide("benchEightByEightUrl", sims.eightByEightUrl);
  project.provide("benchResultsUrl", `${collector.origin}/results`);
  return async () => {
    await collector.close();
    await sims.close();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    benchInkitUrl: string;
    benchEightByEightUrl: string;
    benchResultsUrl: string;
  }
}
