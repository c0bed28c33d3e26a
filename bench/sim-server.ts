// The simulators for the bench, in a process of their own (so the load generator and the upstreams do not share an
// event loop). Same apps and seeded data as simulator/server.ts, plus a thin wrapper that counts, per upstream
// listing, the calls and the items each response served, readable at GET /__bench/stats on either server.
// Prints one JSON line {"inkitUrl", "eightByEightUrl"} when ready; exits on SIGTERM or when stdin closes.
import { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { createEightByEightApp } from "../simulator/eightbyeight/app";
import { createEightByEightState } from "../simulator/eightbyeight/state";
import { createInkitApp } from "../simulator/inkit/app";
import { createInkitState } from "../simulator/inkit/state";
import type { SimulatorEnv } from "../simulator/shared/env";

interface Stats {
  /** Calls per listing key: the Inkit path, or the 8x8 definition id. */
  calls: Record<string, number>;
  /** Items served per listing key (items of an Inkit list, elements of an 8x8 array). */
  items: Record<string, number>;
  /** The last path and query served per key, so a direct call can ask exactly what the worker asked. */
  last: Record<string, string>;
}

const EIGHT_BY_EIGHT_LIST = /^\/api\/v1\/accounts\/[^/]+\/definitions\/([^/]+)\/workflows$/;

function keyOf(pathname: string): string {
  return EIGHT_BY_EIGHT_LIST.exec(pathname)?.[1] ?? pathname;
}

function counted(app: Hono<SimulatorEnv>) {
  let stats: Stats = { calls: {}, items: {}, last: {} };
  let countItems = true;
  const json = (body: unknown) =>
    new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/stats") {
      // DELETE takes: answers the counts so far and starts new ones.
      const answer = json(stats);
      if (request.method === "DELETE") stats = { calls: {}, items: {}, last: {} };
      return answer;
    }
    if (url.pathname === "/__bench/count-items") {
      // Item counting parses every body: off while the load generator runs.
      countItems = url.searchParams.get("on") !== "0";
      return json({ countItems });
    }
    const response = await app.fetch(request);
    if (url.pathname.startsWith("/__admin")) return response;
    const key = keyOf(url.pathname);
    stats.calls[key] = (stats.calls[key] ?? 0) + 1;
    stats.last[key] = `${url.pathname}${url.search}`;
    if (countItems && response.status === 200) {
      try {
        const body = (await response.clone().json()) as unknown;
        const served = Array.isArray(body)
          ? body.length
          : Array.isArray((body as { items?: unknown }).items)
            ? (body as { items: unknown[] }).items.length
            : 1;
        stats.items[key] = (stats.items[key] ?? 0) + served;
      } catch {
        // Not JSON (a malformed-body fault): nothing served.
      }
    }
    return response;
  };
}

function listen(fetch: (request: Request) => Promise<Response>): Promise<{ url: string; server: Server }> {
  return new Promise((resolve, reject) => {
    const started = serve({ fetch, hostname: "127.0.0.1", port: 0 });
    if (!(started instanceof Server)) return reject(new Error("expected an HTTP/1.1 server"));
    const server = started;
    server.once("error", reject);
    server.once("listening", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no address"));
      resolve({ url: `http://127.0.0.1:${address.port}`, server });
    });
  });
}

const inkit = await listen(counted(createInkitApp(createInkitState())));
const eightByEight = await listen(counted(createEightByEightApp(createEightByEightState())));

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const { server } of [inkit, eightByEight]) {
    server.closeAllConnections();
    server.close();
  }
  setTimeout(() => process.exit(0), 200).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();

console.log(JSON.stringify({ inkitUrl: inkit.url, eightByEightUrl: eightByEight.url }));
