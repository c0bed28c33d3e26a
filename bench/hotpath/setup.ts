// Global setup of the hot-path bench (Node side): starts the simulators, so the bench reads real 500-item upstream
// pages, and a loopback collector that the bench inside workerd posts its results to (workerd has no file system).
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { startSimulators } from "../../simulator/server";

export default async function setup(project: TestProject) {
  const out = process.env.BENCH_HOTPATH_OUT;
  // No silent page-size cap: the bench reads whole 500-item pages.
  const sims = await startSimulators({ inkitPort: 0, eightByEightPort: 0, inkitPageSizeCap: null });
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (out) writeFileSync(out, body);
      else console.log(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  project.provide("benchInkitUrl", sims.inkitUrl);
  project.provide("benchEightByEightUrl", sims.eightByEightUrl);
  project.provide("benchResultsUrl", `http://127.0.0.1:${(collector.address() as AddressInfo).port}/results`);
  return async () => {
    collector.closeAllConnections();
    await new Promise((resolve) => collector.close(resolve));
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
