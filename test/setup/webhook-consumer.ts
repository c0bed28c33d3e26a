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

/**
 * A failure to answer with: for the next `times` requests (null: every one), or for `forMs` milliseconds from the
 * first request it answers. `retryAfter` is sent as `Retry-After`; `"remaining"` sends the seconds left of `forMs`.
 */
interface Failure {
  status: number;
  times: number | null;
  retryAfter: string | null;
  forMs: number | null;
  /** The window a `forMs` failure covers, set by the first request it answers. */
  window: { from: number; until: number } | null;
}

/** How a hook behaves: the secrets it verifies with, and a failure to answer with for its next requests. */
interface HookConfig {
  secrets: string[];
  fail: Failure | null;
  /** Answer only after this many milliseconds (to exercise the delivery timeout, or to be a slow consumer). */
  delayMs: number;
}

/**
 * A hook: its behaviour, what it received, the ordering a real consumer keeps (highest sequence per object), and
 * the requests in progress now and at most (the pacing a sender keeps, counted where it lands).
 */
interface Hook {
  config: HookConfig;
  received: ReceivedDelivery[];
  order: EventOrder;
  inProgress: number;
  maxInProgress: number;
}

const hooks = new Map<string, Hook>();

function hook(name: string): Hook {
  let entry = hooks.get(name);
  if (!entry) {
    entry = {
      config: { secrets: [], fail: null, delayMs: 0 },
      received: [],
      order: new EventOrder(),
      inProgress: 0,
      maxInProgress: 0,
    };
    hooks.set(name, entry);
  }
  return entry;
}

/** The most requests that arrived within any `spanMs` (arrival times, ms): a window starts at each arrival. */
function mostWithin(arrivals: number[], spanMs: number): number {
  const at = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < at.length; last++) {
    while ((at[last] ?? 0) - (at[first] ?? 0) >= spanMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** What a hook reports: every request, the most in any second, the most at once, and its failure window. */
const report = (entry: Hook) => ({
  received: entry.received,
  max_per_second: mostWithin(
    entry.received.map((r) => r.at),
    1000,
  ),
  max_concurrent: entry.maxInProgress,
  fail_window: entry.config.fail?.window ?? null,
});

/** Whether this request meets the failure, and the `Retry-After` it gets then; moves the failure on. */
function failing(fail: Failure | null, now: number): { status: number; retryAfter: string | null } | null {
  if (!fail) return null;
  if (fail.forMs !== null) {
    fail.window ??= { from: now, until: now + fail.forMs };
    if (now >= fail.window.until) return null;
    const remaining = String(Math.ceil((fail.window.until - now) / 1000));
    return { status: fail.status, retryAfter: fail.retryAfter === "remaining" ? remaining : fail.retryAfter };
  }
  if (fail.times !== null && fail.times <= 0) return null;
  if (fail.times !== null) fail.times -= 1;
  return { status: fail.status, retryAfter: fail.retryAfter };
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
  const arrived = Date.now();
  const url = new URL(req.url ?? "/", "http://consumer");
  const body = await readBody(req);
  const admin = /^\/__admin\/hooks\/([\w-]+)$/.exec(url.pathname);
  if (admin?.[1]) {
    const entry = hook(admin[1]);
    if (req.method === "GET") return send(res, 200, report(entry));
    if (req.method === "PUT") {
      const input = JSON.parse(body || "{}") as {
        secrets?: string[];
        fail?: { status: number; times?: number; for_ms?: number; retry_after?: string } | null;
        delay_ms?: number;
      };
      if (input.secrets) entry.config.secrets = input.secrets;
      if (input.delay_ms !== undefined) entry.config.delayMs = input.delay_ms;
      if (input.fail !== undefined) {
        entry.config.fail = input.fail
          ? {
              status: input.fail.status,
              times: input.fail.times ?? null,
              retryAfter: input.fail.retry_after ?? null,
              forMs: input.fail.for_ms ?? null,
              window: null,
            }
          : null;
      }
      return send(res, 200, { config: entry.config });
    }
  }
  const target = /^\/hooks\/([\w-]+)$/.exec(url.pathname);
  if (req.method === "POST" && target?.[1]) {
    const entry = hook(target[1]);
    entry.inProgress += 1;
    entry.maxInProgress = Math.max(entry.maxInProgress, entry.inProgress);
    try {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
      );
      const verifiedBy = verify(entry.config.secrets, body, headers);
      const failure = failing(entry.config.fail, arrived);
      const answered = failure ? failure.status : verifiedBy !== null && verifiedBy.length === 0 ? 401 : 200;
      const verdict = answered < 300 ? entry.order.accept(JSON.parse(body) as OrderedEvent) : null;
      entry.received.push({ at: arrived, headers, body, verifiedBy, answered, verdict });
      if (entry.config.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, entry.config.delayMs));
      const extra: Record<string, string> = failure?.retryAfter ? { "Retry-After": failure.retryAfter } : {};
      return send(res, answered, { received: answered < 300 }, extra);
    } finally {
      entry.inProgress -= 1;
    }
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
