import type { TestProject } from "vitest/node";
import { startSimulators } from "../../simulator/server";

/** Starts both upstream simulators on free loopback ports for the whole run. */
export default async function setup(project: TestProject) {
  const sims = await startSimulators({ inkitPort: 0, eightByEightPort: 0 });
  project.provide("inkitUrl", sims.inkitUrl);
  project.provide("eightByEightUrl", sims.eightByEightUrl);
  return () => sims.close();
}
