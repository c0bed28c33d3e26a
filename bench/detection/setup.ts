// Global setup of the detection bench (Node side): starts the simulators as the tests do (Inkit with its default
// silent page-size cap of 100), and a loopback collector that the bench inside workerd posts its figures to (workerd
// has no file system). The collector also stands in as the webhook endpoint's URL: nothing is ever delivered to it,
// as the bench never consumes the delivery queue. BENCH_DETECTION_LOG=1 logs every simulator request (which calls a
// tick made, in order).
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { startSimulators } from "../../simulator/server";

export default async function setup(project: TestProject) {
  const out = process.env.BENCH_DETECTION_OUT;
  const sims = await startSimulators({
    inkitPort: 0,
    eightByEightPort: 0,
    log: process.env.BENCH_DETECTION_LOG === "1",
  });
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.url === "/results") {
        const body = Buffer.concat(chunks).toString("utf8");
        if (out) writeFileSync(out, body);
        else console.log(body);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  project.provide("detectionInkitUrl", sims.inkitUrl);
  project.provide("detectionEightByEightUrl", sims.eightByEightUrl);
  project.provide("detectionCollectorUrl", origin);
  return async () => {
    collector.closeAllConnections();
    await new Promise((resolve) => collector.close(resolve));
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
