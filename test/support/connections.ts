// Tenants' own connections in tests: saving them, the simulator accounts they read, and each tenant's view of its
// events (the pull stream and one webhook endpoint), compared with the truth of its own account.
import { expect, vi } from "vitest";
import {
  EIGHT_BY_EIGHT_ACCOUNT_IDS,
  EIGHT_BY_EIGHT_API_KEYS,
  INKIT_API_TOKENS,
  type Tenant,
} from "../../simulator/credentials";
import { TEST_API_KEY } from "../setup/bindings";
import { eightByEightSource, inkitRunsSource, type StreamSource } from "./detection";
import { eightByEightSim, inkitSim } from "./simulator";
import { normalizeTimestamp } from "./truth";
import { callAppJson, consumer, payloadOf, runCron, type WebhookEnv } from "./webhooks";

export interface Connection {
  id: string;
  provider: "inkit" | "8x8";
  status: "active" | "invalid" | "deleted";
  account_id: string | null;
  last_error: string | null;
}

/** A simulator account's Inkit token under a credential of its own (`~tag`). */
export const inkitToken = (account: Tenant, tag: string) => `${INKIT_API_TOKENS[account]}~${tag}`;

/** A simulator account's 8x8 key under a credential of its own (`~tag`). */
export const eightByEightKey = (account: Tenant, tag: string) => `${EIGHT_BY_EIGHT_API_KEYS[account]}~${tag}`;

/** Saves a connection for the API key `auth`; asserts it was created. */
async function connect(w: WebhookEnv, body: Record<string, unknown>, auth: string = TEST_API_KEY) {
  const { res, body: conn } = await callAppJson<Connection>(w, "/v1/connections", { method: "POST", json: body, auth });
  expect(res.status, JSON.stringify(conn)).toBe(201);
  return conn;
}

/** An Inkit connection to a simulator account, through `inkitToken(account, tag)`. */
export const connectInkit = (w: WebhookEnv, account: Tenant, tag: string, auth?: string) =>
  connect(w, { provider: "inkit", credentials: { api_token: inkitToken(account, tag) } }, auth);

/** An 8x8 connection to a simulator account, through `eightByEightKey(account, tag)`. */
export const connectEightByEight = (w: WebhookEnv, account: Tenant, tag: string, auth?: string) =>
  connect(
    w,
    {
      provider: "8x8",
      account_id: EIGHT_BY_EIGHT_ACCOUNT_IDS[account],
      credentials: { api_key: eightByEightKey(account, tag) },
    },
    auth,
  );

/** Changes the connection's credential (PATCH); asserts it was accepted. */
export async function patchCredential(w: WebhookEnv, conn: Connection, credential: string, auth?: string) {
  const credentials = conn.provider === "inkit" ? { api_token: credential } : { api_key: credential };
  const { res, body } = await callAppJson<Connection>(w, `/v1/connections/${conn.id}`, {
    method: "PATCH",
    json: { credentials },
    ...(auth ? { auth } : {}),
  });
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

/** Inkit runs of one simulator account, watched as `source` (`inkit:runs@conn_…`). */
export function inkitRunsOf(account: Tenant, source: string): StreamSource {
  return {
    ...inkitRunsSource,
    name: `inkit runs of ${account}`,
    source,
    async insert(count, status, tieHead) {
      const { items } = await inkitSim.insert<{ id: string; created_at: string }>({
        kind: "run",
        count,
        status,
        tenant: account,
        ...(tieHead === undefined ? {} : { tie_head: tieHead }),
      });
      return items.map((i) => ({ id: i.id, created_at: normalizeTimestamp(i.created_at) }));
    },
    async setStatus(ids, status) {
      await inkitSim.setStatus({ ids, status, tenant: account });
    },
    async remove(ids) {
      await inkitSim.remove({ ids, tenant: account });
    },
  };
}

/** An Inkit batch listing of one simulator account, watched as `source` (`inkit:batches@conn_…`, …). */
export function inkitBatchesOf(
  account: Tenant,
  kind: "workflow_batch" | "document_batch",
  source: string,
): StreamSource {
  return {
    ...inkitRunsOf(account, source),
    name: `inkit ${kind}es of ${account}`,
    async insert(count, status, tieHead) {
      const { items } = await inkitSim.insert<{ id: string; created_at: string }>({
        kind,
        count,
        status,
        tenant: account,
        ...(tieHead === undefined ? {} : { tie_head: tieHead }),
      });
      return items.map((i) => ({ id: i.id, created_at: normalizeTimestamp(i.created_at) }));
    },
    open: ["In Progress", "In Progress"],
    done: ["Completed", "Failed"],
    normalized: { "In Progress": "in_progress", Completed: "completed", Failed: "failed" },
    terminalTypes: { completed: "batch.completed" },
  };
}

/** One 8x8 definition of a simulator account, watched as `source` (`8x8:{account}/{definition}@conn_…`). */
export function eightByEightOf(account: Tenant, definitionId: string, source: string): StreamSource {
  return {
    ...eightByEightSource,
    name: `8x8 ${definitionId} of ${account}`,
    source,
    async insert(count, status, tieHead) {
      const { items } = await eightByEightSim.insert<{ workflowId: string; startedAt: string }>({
        definitionId,
        count,
        status,
        tenant: account,
        ...(tieHead === undefined ? {} : { tie_head: tieHead }),
      });
      return items.map((i) => ({ id: i.workflowId, created_at: normalizeTimestamp(i.startedAt) }));
    },
    async setStatus(ids, status) {
      await eightByEightSim.setStatus({ workflowIds: ids, status, tenant: account });
    },
    async remove(ids) {
      await eightByEightSim.remove({ workflowIds: ids, tenant: account });
    },
  };
}

/** An event as the stream serves it. */
interface StreamEvent {
  id: string;
  type: string;
  source: string | null;
  sequence: number | null;
  created_at: string;
  data: { object: { id: string; status?: string; created_at?: string }; previous: unknown };
}

/**
 * One tenant's consumer of `GET /v1/event-stream`: each `follow()` reads from where the last one stopped to the end,
 * as a consumer polling after every tick does.
 */
export class StreamFollower {
  readonly events: StreamEvent[] = [];
  #cursor: string | null = null;

  constructor(
    private readonly w: WebhookEnv,
    private readonly auth: string,
  ) {}

  async follow(): Promise<StreamEvent[]> {
    const read: StreamEvent[] = [];
    for (;;) {
      const query = this.#cursor === null ? "limit=500" : `cursor=${encodeURIComponent(this.#cursor)}`;
      const { res, body } = await callAppJson<{
        data: StreamEvent[];
        page: { has_more: boolean; next_cursor: string };
      }>(this.w, `/v1/event-stream?${query}`, { auth: this.auth });
      expect(res.status, JSON.stringify(body)).toBe(200);
      read.push(...body.data);
      this.#cursor = body.page.next_cursor;
      if (!body.page.has_more) break;
    }
    this.events.push(...read);
    return read;
  }

  /** The events of one source, in the stream's order. */
  of(source: string): StreamEvent[] {
    return this.events.filter((e) => e.source === source);
  }
}

/** Stream events in the shape `expectStream` compares (the log's columns). */
export const asLogged = (events: StreamEvent[]) =>
  events.map((e) => ({
    type: e.type,
    object_id: e.data.object.id,
    sequence: e.sequence as number,
    payload: JSON.stringify({ type: e.type, data: e.data }),
  }));

/**
 * What a hook received, verified, as the log's columns, in `sequence` order per `provider` (deliveries are concurrent
 * and carry no source: each tenant's endpoint here watches one source per provider).
 */
export async function deliveredOf(hook: string, provider: "inkit" | "8x8") {
  const received = (await consumer.received(hook)).filter((r) => r.answered < 300);
  return received
    .map((r) => ({ payload: payloadOf(r), body: r.body, id: r.headers["webhook-id"] ?? "" }))
    .filter((r) => r.payload.data.object.provider === provider && r.payload.sequence !== undefined)
    .sort((a, b) => (a.payload.sequence as number) - (b.payload.sequence as number))
    .map((r) => ({
      id: r.id,
      type: r.payload.type,
      object_id: r.payload.data.object.id,
      sequence: r.payload.sequence as number,
      payload: r.body,
    }));
}

/**
 * One cron tick a minute after the last, as the deployment's cron runs them: the clock (`Date` only) moves on a
 * minute first, so what detection and connections keep for a while (a lookup's time, an isolate's resolved
 * credential) ages as it would between two ticks. The caller restores real timers after the test.
 */
export async function tick(w: WebhookEnv, options?: Parameters<typeof runCron>[1]): Promise<number> {
  const now = Date.now();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(now + 60_000);
  return runCron(w, options);
}
