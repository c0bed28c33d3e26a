import { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { createEightByEightApp } from "./eightbyeight/app";
import { createEightByEightState, type EightByEightState } from "./eightbyeight/state";
import { createInkitApp } from "./inkit/app";
import { createInkitState, type InkitState } from "./inkit/state";
import type { SimulatorEnv } from "./shared/env";

interface StartSimulatorsOptions {
  /** 0 (the default) picks a free port. */
  inkitPort?: number;
  eightByEightPort?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Log every request to stdout. */
  log?: boolean;
  /** Inkit's silent page-size cap at start and after reset (null: none). Default 100. */
  inkitPageSizeCap?: number | null;
}

interface RunningSimulators {
  inkitUrl: string;
  eightByEightUrl: string;
  /** The live state, for tests that want to look inside without HTTP. */
  inkit: InkitState;
  eightByEight: EightByEightState;
  /** Releases hung requests, drops open connections and stops both servers. */
  close(): Promise<void>;
}

/**
 * Starts the Inkit and 8x8 simulators on loopback.
 *
 * @example
 * const sims = await startSimulators();
 * await fetch(`${sims.inkitUrl}/v1/invoke`, { headers: { "X-Inkit-API-Token": INKIT_API_TOKENS.demo } });
 * await sims.close();
 */
export async function startSimulators(options: StartSimulatorsOptions = {}): Promise<RunningSimulators> {
  const host = options.host ?? "127.0.0.1";
  const inkit = createInkitState({ pageSizeCap: options.inkitPageSizeCap });
  const eightByEight = createEightByEightState();
  const inkitServer = await listen(createInkitApp(inkit), host, options.inkitPort ?? 0, options.log === true);
  let eightByEightServer: Listening;
  try {
    eightByEightServer = await listen(
      createEightByEightApp(eightByEight),
      host,
      options.eightByEightPort ?? 0,
      options.log === true,
    );
  } catch (error) {
    await inkitServer.close();
    throw error;
  }
  return {
    inkitUrl: inkitServer.url,
    eightByEightUrl: eightByEightServer.url,
    inkit,
    eightByEight,
    async close() {
      inkit.faults.releaseWaiting();
      eightByEight.faults.releaseWaiting();
      await Promise.all([inkitServer.close(), eightByEightServer.close()]);
    },
  };
}

interface Listening {
  url: string;
  close(): Promise<void>;
}

function listen(app: Hono<SimulatorEnv>, host: string, port: number, log: boolean): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const fetch = log ? withRequestLog(app) : (request: Request) => app.fetch(request);
    const started = serve({ fetch, hostname: host, port });
    // serve() builds an HTTP/1.1 server unless told otherwise; narrowing avoids the http2 overloads.
    if (!(started instanceof Server)) throw new Error("expected an HTTP/1.1 server");
    const server: Server = started;
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error(`unexpected address ${address}`));
      const urlHost = address.address.includes(":") ? `[${address.address}]` : address.address;
      resolve({ url: `http://${urlHost}:${address.port}`, close: () => closeServer(server) });
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error?: Error) => (error ? reject(error) : resolve()));
    // Keep-alive and hung connections would otherwise hold close() open.
    server.closeAllConnections();
  });
}

/** One line per request; wraps fetch so the app's own notFound and onError stay in charge. */
function withRequestLog(app: Hono<SimulatorEnv>): (request: Request) => Promise<Response> {
  return async (request) => {
    const started = performance.now();
    const response = await app.fetch(request);
    const url = new URL(request.url);
    const elapsed = (performance.now() - started).toFixed(1);
    console.log(`${url.host} ${request.method} ${url.pathname}${url.search} -> ${response.status} ${elapsed}ms`);
    return response;
  };
}
