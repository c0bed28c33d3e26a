import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { TestProject } from "vitest/node";
import { EventOrder, type OrderedEvent } from "../../scripts/event-order";
import type { ReceivedDelivery } from "./received-delivery";

declare module "vitest" {
  export interface ProvidedContext {
    consumerUrl: string;
  }
}

/** How a hook behaves: the secrets it verifies with, and a failure to answer with for its next requests. */
interface HookConfig {
  secrets: string[];
  fail: { status: number; times: number | null; retryAfter: string | null } | null;
  /** Answer only after this many milliseconds (to exercise the delivery timeout). */
  delayMs: number;
}

/** A hook: its behaviour, what it received, and the ordering a real consumer keeps (highest sequence per object). */
const hooks = new Map<string, { config: HookConfig; received: ReceivedDelivery[]; order: EventOrder }>();

function hook(name: string) {
  let entry = hooks.get(name);
  if (!entry) {
    entry = { config: { secrets: [], fail: null, delayMs: 0 }, received: [], order: new EventOrder() };
    hooks.set(name, entry);
  }
  return entry;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Verifies a delivery with the standardwebhooks package against every configured secret. */
function verify(secrets: string[], body: string, headers: Record<string, string>): number[] | null {
  if (secrets.length === 0) return null;
  return secrets.flatMap((secret, i) => {
    try {
      new Webhook(secret).verify(body, headers);
      return [i];
    } catch {
      return [];
    }
  });
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://consumer");
  const body = await readBody(req);
  const admin = /^\/__admin\/hooks\/([\w-]+)$/.exec(url.pathname);
  if (admin?.[1]) {
    const entry = hook(admin[1]);
    if (req.method === "GET") return send(res, 200, { received: entry.received });
    if (req.method === "PUT") {
      const input = JSON.parse(body || "{}") as {
        secrets?: string[];
        fail?: { status: number; times?: number; retry_after?: string } | null;
        delay_ms?: number;
      };
      if (input.secrets) entry.config.secrets = input.secrets;
      if (input.delay_ms !== undefined) entry.config.delayMs = input.delay_ms;
      if (input.fail !== undefined) {
        entry.config.fail = input.fail
          ? { status: input.fail.status, times: input.fail.times ?? null, retryAfter: input.fail.retry_after ?? null }
          : null;
      }
      return send(res, 200, { config: entry.config });
    }
  }
  const target = /^\/hooks\/([\w-]+)$/.exec(url.pathname);
  if (req.method === "POST" && target?.[1]) {
    const entry = hook(target[1]);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
    );
    const verifiedBy = verify(entry.config.secrets, body, headers);
    const fail = entry.config.fail;
    let answered = 200;
    if (fail && (fail.times === null || fail.times > 0)) {
      answered = fail.status;
      if (fail.times !== null) fail.times -= 1;
    } else if (verifiedBy !== null && verifiedBy.length === 0) {
      answered = 401;
    }
    const verdict = answered < 300 ? entry.order.accept(JSON.parse(body) as OrderedEvent) : null;
    entry.received.push({ at: Date.now(), headers, body, verifiedBy, answered, verdict });
    if (entry.config.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, entry.config.delayMs));
    const extra: Record<string, string> =
      fail?.retryAfter && answered === fail.status ? { "Retry-After": fail.retryAfter } : {};
    return send(res, answered, { received: answered < 300 }, extra);
  }
  send(res, 404, { error: "not found" });
}

/** Starts the test webhook consumer: a real HTTP server the worker under test delivers to. */
export async function startConsumer(port = 0): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${bound}`, server };
}

/** Vitest global setup: one consumer for the whole run; hooks are namespaced by name, so files do not collide. */
export default async function setup(project: TestProject) {
  const { url, server } = await startConsumer();
  project.provide("consumerUrl", url);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
