// Whole event streams against the truth of what changed upstream. The truth is kept by the test as it changes the
// simulators, and statuses are mapped by tables written out here: nothing is taken from the facade's code.
import { expect } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { eightByEightSim, inkitSim } from "./simulator";
import { normalizeTimestamp } from "./truth";
import { rows } from "./webhooks";

/** One watched listing as a test drives it: inserts, status changes, and the statuses in both vocabularies. */
export interface StreamSource {
  name: string;
  source: string;
  insert(count: number, status: string, tieHead?: boolean): Promise<{ id: string; created_at: string }[]>;
  setStatus(ids: string[], status: string): Promise<void>;
  /** The upstream stops listing these items (a purge). */
  remove(ids: string[]): Promise<void>;
  /** Upstream status texts: open ones, and terminal ones. */
  open: [string, string];
  done: [string, string];
  /** Upstream text → normalized status, as the README documents it. */
  normalized: Record<string, string>;
  /** Terminal normalized status → the event type that announces it, if any. */
  terminalTypes: Record<string, string>;
  settings(body: Record<string, unknown>): Promise<unknown>;
}

const ORDER_NOTIFICATIONS = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.orderNotifications;

export const inkitRunsSource: StreamSource = {
  name: "inkit runs",
  source: "inkit:runs",
  async insert(count, status, tieHead) {
    const { items } = await inkitSim.insert<{ id: string; created_at: string }>({
      kind: "run",
      count,
      status,
      ...(tieHead === undefined ? {} : { tie_head: tieHead }),
    });
    return items.map((i) => ({ id: i.id, created_at: normalizeTimestamp(i.created_at) }));
  },
  async setStatus(ids, status) {
    await inkitSim.setStatus({ ids, status });
  },
  async remove(ids) {
    await inkitSim.remove({ ids });
  },
  open: ["In Progress", "Pending"],
  done: ["Completed", "Failed"],
  normalized: { "In Progress": "running", Pending: "pending", Completed: "completed", Failed: "failed" },
  terminalTypes: { completed: "run.completed", failed: "run.failed" },
  settings: (body) => inkitSim.settings(body as never),
};

export const eightByEightSource: StreamSource = {
  name: "8x8 orderNotifications",
  source: `8x8:acme-ops/${ORDER_NOTIFICATIONS}`,
  async insert(count, status, tieHead) {
    const { items } = await eightByEightSim.insert<{ workflowId: string; startedAt: string }>({
      definitionId: ORDER_NOTIFICATIONS,
      count,
      status,
      ...(tieHead === undefined ? {} : { tie_head: tieHead }),
    });
    return items.map((i) => ({ id: i.workflowId, created_at: normalizeTimestamp(i.startedAt) }));
  },
  async setStatus(ids, status) {
    await eightByEightSim.setStatus({ workflowIds: ids, status });
  },
  async remove(ids) {
    await eightByEightSim.remove({ workflowIds: ids });
  },
  open: ["Runnable", "Suspended"],
  done: ["Complete", "Terminated"],
  normalized: { Runnable: "running", Suspended: "suspended", Complete: "completed", Terminated: "terminated" },
  terminalTypes: { completed: "run.completed" },
  settings: (body) => eightByEightSim.settings(body as never),
};

/** What a consumer must end up knowing: every creation, and each changed item's final state. */
export class StreamTruth {
  readonly created = new Map<string, string>();
  readonly finals = new Map<string, string>();

  constructor(private readonly src: StreamSource) {}

  async insert(count: number, status: string, tieHead?: boolean) {
    const items = await this.src.insert(count, status, tieHead);
    for (const item of items) this.created.set(item.id, item.created_at);
    return items.map((i) => i.id);
  }

  /** A status change of items detection has seen open: the consumer must get the final one. */
  async setStatus(ids: string[], status: string) {
    await this.src.setStatus(ids, status);
    for (const id of ids) this.finals.set(id, this.src.normalized[status] as string);
  }
}

interface LoggedEvent {
  type: string;
  object_id: string;
  sequence: number;
  payload: string;
}

/** Every event of the source's log in minting order (one tenant). */
export const loggedEvents = (source: string) =>
  rows<LoggedEvent>("SELECT type, object_id, sequence, payload FROM events WHERE source = ? ORDER BY sequence", source);

/**
 * Asserts the log holds exactly the truth: one `*.created` per item created since the baseline and none for anything
 * else, minted oldest first; for each changed item, its final state last; the terminal type once when it has one; no
 * event for items nobody changed; sequences strictly increasing.
 */
export function expectStream(events: LoggedEvent[], truth: StreamTruth, src: StreamSource) {
  const sequences = events.map((e) => e.sequence);
  expect(new Set(sequences).size).toBe(sequences.length);
  expect(sequences).toEqual([...sequences].sort((a, b) => a - b));

  const created = events.filter((e) => e.type.endsWith(".created"));
  expect(created.map((e) => e.object_id).sort()).toEqual([...truth.created.keys()].sort());
  const times = created.map((e) => (JSON.parse(e.payload) as { data: { object: { created_at: string } } }).data);
  const createdAt = times.map((d) => d.object.created_at);
  expect(createdAt, "created events are minted oldest first").toEqual([...createdAt].sort());
  for (const e of created) expect(JSON.parse(e.payload).data.object.created_at).toBe(truth.created.get(e.object_id));

  const touched = new Set([...truth.created.keys(), ...truth.finals.keys()]);
  expect(events.filter((e) => !touched.has(e.object_id)).map((e) => `${e.type} ${e.object_id}`)).toEqual([]);
  for (const [id, status] of truth.finals) {
    const mine = events.filter((e) => e.object_id === id);
    const last = mine.at(-1);
    expect(last && JSON.parse(last.payload).data.object.status, `final state of ${id}`).toBe(status);
    const terminal = src.terminalTypes[status];
    if (terminal) expect(mine.filter((e) => e.type === terminal).length, `${terminal} of ${id}`).toBe(1);
  }
}
