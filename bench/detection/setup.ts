// Global setup of the detection bench (Node side): starts the simulators as the tests do (Inkit with its default
// silent page-size cap of 100), and a loopback collector that the bench inside workerd posts its figures to (workerd
// has no file system). The collector also stands in as the webhook endpoint's URL: nothing is ever delivered to it,
// as the bench never consumes the delivery queue. BENCH_DETECTION_LOG=1 logs every simulator request (which calls a
// tick made, in order).
import type { TestProject } from "vitest/node";
import { startSimulators } from "../../simulator/server";
import { startCollector } from "../lib/collector";

export default async function setup(project: TestProject) {
  const out = process.env.BENCH_DETECTION_OUT;
  const sims = await startSimulators({
    inkitPort: 0,
    eightByEightPort: 0,
    log: process.env.BENCH_DETECTION_LOG === "1",
  });
  const collector = await startCollector(out);
  const origin = collector.origin;
  project.provide("detectionInkitUrl", sims.inkitUrl);
  project.provide("detectionEightByEightUrl", sims.eightByEightUrl);
  project.provide("detectionCollectorUrl", origin);
  return async () => {
    await collector.close();
    await sims.close();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    detectionInkitUrl: string;
    detectionEightByEightUrl: string;
    detectionCollectorUrl: string;
  }
}
