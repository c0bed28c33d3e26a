// The 8x8 Automation simulator, over real HTTP, against the vendor docs (seed 003; its examples are in
// test/fixtures/seeds.ts).
// Shapes come from the docs' examples (test/fixtures/seeds.ts); behaviours from the docs' parameter list and
// simulator/README.md where the docs are silent (marked "sim assumption" below).
import { beforeAll, describe, expect, it } from "vitest";
import {
  EIGHT_BY_EIGHT_ACCOUNT_IDS,
  EIGHT_BY_EIGHT_API_KEYS,
  EIGHT_BY_EIGHT_DEFINITION_IDS,
} from "../../simulator/credentials";
import type { EightByEightError, EightByEightInstance } from "../../src/providers/eightbyeight/schemas";
import { eightByEightErrors, eightByEightInstances } from "../fixtures/seeds";
import { at, key, type ShapeRules, shapeOf } from "../support/shape";
import { eightByEightSim, mutationsOf } from "../support/simulator";
import { tieGroups } from "../support/truth";

const BASE = eightByEightSim.url;
const DEMO_KEY = EIGHT_BY_EIGHT_API_KEYS.demo;
const OTHER_KEY = EIGHT_BY_EIGHT_API_KEYS.other;
const ACME = EIGHT_BY_EIGHT_ACCOUNT_IDS.demo;
const GLOBEX = EIGHT_BY_EIGHT_ACCOUNT_IDS.other;
const { orderNotifications, smsKeywordRouter, appointmentReminders, chatEscalation } =
  EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const { supportTriage } = EIGHT_BY_EIGHT_DEFINITION_IDS.other;
const UNKNOWN_DEFINITION = "2aa9465e-dec7-4c3e-8fa6-bd168af9eaca"; // the one in the docs' 404 example

const STATUSES = ["Runnable", "Suspended", "Complete", "Terminated"]; // the docs' status enum
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OBJECT_ID = /^[0-9a-f]{24}$/;
/** .NET round-trip style as in the docs (`…:39.49Z`): trailing zeros trimmed, milliseconds at most. */
const DOTNET_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,2}[1-9])?Z$/;
/** The same with up to seven fractional digits (`triggeredAt: …:39.3857479Z`). */
const DOTNET_TICKS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,6}[1-9])?Z$/;

const INSTANCE_RULES: ShapeRules = {
  // The docs' example shows a completion time, the docs' schema example `"completedAt": null` ("Otherwise, null").
  nullable: { "[].completedAt": "string" },
  // Not in the schema's required list: subAccountId ("only available if the trigger was raised with the subaccount
  // id") and payload (trigger-specific: the example is a chat-apps payload; scheduled triggers carry none).
  optional: { "[].data.subAccountId": "string", "[].data.payload": "object" },
  // Payload contents depend on the trigger; the chat-apps one is compared strictly in its own test.
  opaque: ["[].data.payload"],
};
/** For chat-apps instances: the full payload skeleton must match the docs' example. */
const CHAT_INSTANCE_RULES: ShapeRules = {
  nullable: { "[].completedAt": "string" },
  optional: { "[].data.subAccountId": "string" },
};

// ---------------------------------------------------------------------------------------------------------------
// HTTP helpers

type Query = Record<string, string | number>;
type Instance = EightByEightInstance;

function listPath(definitionId: string, accountId: string = ACME) {
  return `/api/v1/accounts/${accountId}/definitions/${definitionId}/workflows`;
}

function request(
  path: string,
  query: Query = {},
  options: { key?: string | null; authorization?: string; signal?: AbortSignal } = {},
) {
  const url = new URL(path, BASE);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  const authorization =
    options.authorization ?? (options.key === null ? undefined : `Bearer ${options.key ?? DEMO_KEY}`);
  return fetch(url, {
    headers: authorization === undefined ? {} : { Authorization: authorization },
    signal: options.signal,
  });
}

async function list(
  definitionId: string,
  query: Query = {},
  key: string = DEMO_KEY,
  accountId: string = ACME,
): Promise<Instance[]> {
  const res = await request(listPath(definitionId, accountId), query, { key });
  expect(res.status, `${definitionId} ${JSON.stringify(query)}`).toBe(200);
  return (await res.json()) as Instance[];
}

/** Every matching instance, paged through the emulated route 500 at a time. */
async function listAll(definitionId: string, query: Query = {}, key: string = DEMO_KEY, accountId: string = ACME) {
  const all: Instance[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await list(definitionId, { ...query, limit: 500, offset }, key, accountId);
    all.push(...page);
    if (page.length < 500) return all;
    if (offset >= 10_000) throw new Error(`${definitionId}: more than 10,000 instances; is offset ignored?`);
  }
}

/** Every instance of the default listing, `limit` at a time. */
async function pagedBy(definitionId: string, limit: number): Promise<Instance[]> {
  const all: Instance[] = [];
  for (let offset = 0; ; offset += limit) {
    const page = await list(definitionId, { offset, limit });
    all.push(...page);
    if (page.length < limit) return all;
  }
}

async function error(res: Response, status: number, code: number): Promise<EightByEightError> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as EightByEightError;
  expect(body.code).toBe(code);
  expect(shapeOf(body)).toEqual(shapeOf(eightByEightErrors[0]));
  return body;
}

const workflowIds = (items: readonly Instance[]) => items.map((item) => item.workflowId);
const overlap = (a: readonly Instance[], b: readonly Instance[]) => {
  const inB = new Set(workflowIds(b));
  return workflowIds(a).filter((id) => inB.has(id));
};
const startedMs = (item: Instance) => Date.parse(item.startedAt);
const iso = (ms: number) => new Date(ms).toISOString();
const startedAts = (items: readonly Instance[]) => items.map(startedMs);
/** Instances sharing startedAt (compared as instants: `…:39.5Z` and `…:39.500Z` are one instant). */
const ties = (items: readonly Instance[]) => tieGroups(items, (item) => String(startedMs(item)));
const smallTied = (items: readonly Instance[]) =>
  ties(items)
    .filter((group) => group.length <= 5)
    .reduce((sum, group) => sum + group.length, 0);
const isSorted = (values: readonly string[]) => values.every((v, i) => i === 0 || (values[i - 1] ?? "") <= v);
/** Neither ascending nor descending. */
const unordered = (values: readonly string[]) => !isSorted(values) && !isSorted([...values].reverse());

// The seeded data, read once through the emulated route (reset first: earlier files may have changed it).
let orderV2: Instance[]; // orderNotifications, latest version (the default listing), newest first
let demoAll: Instance[]; // every demo instance of every definition and version
let triage: Instance[]; // the other tenant's chat-apps definition

beforeAll(async () => {
  await eightByEightSim.reset();
  const [v2, v1, sms, a1, a2, a3, other] = await Promise.all([
    listAll(orderNotifications, { version: 2 }),
    listAll(orderNotifications, { version: 1 }),
    listAll(smsKeywordRouter),
    listAll(appointmentReminders, { version: 1 }),
    listAll(appointmentReminders, { version: 2 }),
    listAll(appointmentReminders, { version: 3 }),
    listAll(supportTriage, {}, OTHER_KEY, GLOBEX),
  ]);
  orderV2 = v2;
  demoAll = [...v2, ...v1, ...sms, ...a1, ...a2, ...a3];
  triage = other;
});

// A reset regenerates the dataset, so only tests that change data pay for one. Faults are always cleared.
const mutate = mutationsOf<Instance>(eightByEightSim);

// ---------------------------------------------------------------------------------------------------------------

describe("shapes match every 8x8 example in the seed docs", () => {
  it("shapeOf: optional keys may be absent, but a stray key or a wrong type is caught", () => {
    const expected = shapeOf(eightByEightInstances, INSTANCE_RULES);
    const doc = at(eightByEightInstances, 0);
    const { subAccountId: _s, payload: _p, ...bareData } = doc.data;
    expect(shapeOf([{ ...doc, data: bareData, completedAt: null }], INSTANCE_RULES)).toEqual(expected);
    expect(shapeOf([{ ...doc, extra: 1 }], INSTANCE_RULES)).not.toEqual(expected);
    expect(shapeOf([{ ...doc, data: { ...doc.data, subAccountId: 7 } }], INSTANCE_RULES)).not.toEqual(expected);
    expect(shapeOf([{ ...doc, version: "1" }], INSTANCE_RULES)).not.toEqual(expected);
    const { triggeredAt: _t, ...noTrigger } = doc.data;
    expect(shapeOf([{ ...doc, data: noTrigger }], INSTANCE_RULES)).not.toEqual(expected);
  });

  it("seed 003: every listed instance has the docs' instance and data keys and types", async () => {
    const expected = shapeOf(eightByEightInstances, INSTANCE_RULES);
    expect(shapeOf(await list(orderNotifications), INSTANCE_RULES)).toEqual(expected);
    expect(shapeOf(demoAll, INSTANCE_RULES)).toEqual(expected);
    expect(shapeOf(triage, INSTANCE_RULES)).toEqual(expected);
    // Keys in the docs' order; data keys a subsequence of the docs' data keys.
    const docKeys = Object.keys(at(eightByEightInstances, 0));
    const docDataKeys = Object.keys(at(eightByEightInstances, 0).data);
    const offenders = demoAll.filter(
      (instance) =>
        key(Object.keys(instance)) !== key(docKeys) ||
        key(Object.keys(instance.data)) !== key(docDataKeys.filter((k) => k in instance.data)),
    );
    expect(workflowIds(offenders)).toEqual([]);
  });

  it("seed 003: the optional parts really vary (subAccountId and payload present or not, completedAt null or set)", () => {
    expect(demoAll.some((i) => "subAccountId" in i.data)).toBe(true);
    expect(demoAll.some((i) => !("subAccountId" in i.data))).toBe(true);
    expect(demoAll.some((i) => "payload" in i.data)).toBe(true);
    expect(demoAll.some((i) => !("payload" in i.data))).toBe(true);
    expect(demoAll.some((i) => i.completedAt === null)).toBe(true);
    expect(demoAll.some((i) => typeof i.completedAt === "string")).toBe(true);
  });

  it("seed 003: a chat-apps instance matches the docs' example skeleton down to the payload", () => {
    expect(triage.length).toBeGreaterThan(0);
    expect(shapeOf(triage, CHAT_INSTANCE_RULES)).toEqual(shapeOf(eightByEightInstances, CHAT_INSTANCE_RULES));
  });

  it("seed 003: the 400 body for a non-UUID definition id is the docs' first error (code 1000)", async () => {
    for (const bad of ["not-a-uuid", "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e1", "12345"]) {
      const body = await error(await request(listPath(bad)), 400, 1000);
      expect(body.message).toBe(at(eightByEightErrors, 0).message);
    }
  });

  it("seed 003: the 404 body for an unknown definition is the docs' second error (code 1300)", async () => {
    const body = await error(await request(listPath(UNKNOWN_DEFINITION)), 404, 1300);
    expect(body.message).toBe(at(eightByEightErrors, 1).message);
    // errorId and timestamp look like the docs' (a UUID, .NET timestamp style).
    for (const doc of eightByEightErrors) {
      expect(doc.errorId).toMatch(UUID);
      expect(doc.timestamp).toMatch(DOTNET_MS);
    }
    expect(body.errorId).toMatch(UUID);
    expect(body.timestamp).toMatch(DOTNET_MS);
  });

  it("the single-instance route serves the listed instance as is", async () => {
    const listed = at(orderV2, 17);
    const res = await request(`${listPath(orderNotifications)}/${listed.workflowId}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(listed);
  });
});

describe("documented list behaviours", () => {
  it("defaults: limit 100, offset 0, the latest version only", async () => {
    const page = await list(orderNotifications);
    expect(page).toEqual(orderV2.slice(0, 100));
    expect(page.every((instance) => instance.version === 2)).toBe(true);
    const reminders = await list(appointmentReminders);
    expect(reminders).toHaveLength(60);
    expect(reminders.every((instance) => instance.version === 3)).toBe(true);
  });

  it("limit 1..500 and offset >= 0; anything else is a 400", async () => {
    expect(await list(orderNotifications, { limit: 500 })).toEqual(orderV2.slice(0, 500));
    expect(await list(orderNotifications, { limit: 1 })).toEqual(orderV2.slice(0, 1));
    expect(await list(orderNotifications, { limit: 50, offset: 250 })).toEqual(orderV2.slice(250, 300));
    expect(await list(orderNotifications, { offset: orderV2.length - 1 })).toEqual(orderV2.slice(-1));
    expect(await list(orderNotifications, { offset: orderV2.length })).toEqual([]);
    const invalid: Query[] = [
      { limit: 0 },
      { limit: 501 },
      { limit: -1 },
      { limit: "ten" },
      { offset: -1 },
      { offset: 1.5 },
    ];
    for (const query of invalid) {
      // sim assumption: code 1001 for a bad query parameter.
      const res = await request(listPath(orderNotifications), query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(((await res.json()) as EightByEightError).code).toBe(1001);
    }
  });

  it("version: only that version's instances; an unpublished version lists as [] (sim assumption)", async () => {
    const v1 = await listAll(orderNotifications, { version: 1 });
    expect(v1).toHaveLength(300);
    expect(v1.every((instance) => instance.version === 1)).toBe(true);
    expect(overlap(v1, orderV2)).toEqual([]);
    expect(await list(orderNotifications, { version: 9 })).toEqual([]);
    expect((await request(listPath(orderNotifications), { version: 0 })).status).toBe(400);
  });

  it("status: exactly the instances with that status", async () => {
    for (const status of STATUSES) {
      const expected = orderV2.filter((instance) => instance.status === status);
      expect(await listAll(orderNotifications, { status })).toEqual(expected);
    }
    // sim assumption: the enum is case-sensitive.
    expect((await request(listPath(orderNotifications), { status: "complete" })).status).toBe(400);
  });

  it("startTimeFrom / startTimeTo are inclusive bounds on startedAt (a tie group is in or out whole)", async () => {
    // Bounds on tied instants: the filter keeps or drops each whole group.
    const tied = ties(orderV2).filter((group) => group.length < 10);
    const newer = at(at(tied, 1), 0);
    const older = at(at(tied, 2), 0);
    const within = (from: number, to: number) =>
      orderV2.filter((instance) => startedMs(instance) >= from && startedMs(instance) <= to);
    const between = { startTimeFrom: older.startedAt, startTimeTo: newer.startedAt, limit: 500 };
    const expected = within(startedMs(older), startedMs(newer));
    expect(expected.length).toBeGreaterThan(at(tied, 1).length + at(tied, 2).length);
    expect(await list(orderNotifications, between)).toEqual(expected);
    expect(await list(orderNotifications, { startTimeFrom: newer.startedAt, startTimeTo: newer.startedAt })).toEqual(
      at(tied, 1),
    );
    // One millisecond inside either bound drops that end's whole group.
    expect(await list(orderNotifications, { ...between, startTimeFrom: iso(startedMs(older) + 1) })).toEqual(
      within(startedMs(older) + 1, startedMs(newer)),
    );
    expect(await list(orderNotifications, { ...between, startTimeTo: iso(startedMs(newer) - 1) })).toEqual(
      within(startedMs(older), startedMs(newer) - 1),
    );
    // Open-ended: everything from a point on.
    expect(await list(orderNotifications, { startTimeFrom: newer.startedAt, limit: 500 })).toEqual(
      within(startedMs(newer), Number.POSITIVE_INFINITY),
    );
    expect((await request(listPath(orderNotifications), { startTimeFrom: "yesterday" })).status).toBe(400);
  });

  // Was "strictly newest first" (no ties): ties are now common, so equal neighbours are allowed.
  it("results are ordered newest started first", () => {
    const sms = demoAll.filter((instance) => instance.definitionId === smsKeywordRouter);
    for (const instances of [orderV2, sms, triage]) {
      const times = startedAts(instances);
      expect(times.length).toBeGreaterThan(1);
      expect(times.filter((time, i) => i > 0 && time > at(times, i - 1))).toEqual([]);
    }
  });

  it("completedAt is set exactly when the status is Complete (otherwise null)", () => {
    const offenders = demoAll.filter(
      (instance) => (instance.completedAt !== null) !== (instance.status === "Complete"),
    );
    expect(workflowIds(offenders)).toEqual([]);
  });

  it("400 code 1000 for a non-UUID definition id, 404 code 1300 for an unknown one, [] for one never triggered", async () => {
    await error(await request(listPath("definitely-not-a-uuid")), 400, 1000);
    await error(await request(listPath(UNKNOWN_DEFINITION)), 404, 1300);
    const res = await request(listPath(chatEscalation));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    expect(await list(chatEscalation, { status: "Complete", limit: 500 })).toEqual([]);
  });
});

describe("auth and tenants", () => {
  it("401 (code 1100, sim assumption) without a key, with a wrong key, or without the Bearer scheme", async () => {
    for (const options of [{ key: null }, { key: "sim_8x8_wrong_key" }, { authorization: DEMO_KEY }]) {
      await error(await request(listPath(orderNotifications), {}, options), 401, 1100);
    }
  });

  it("each key sees only its own account's definitions; the other tenant's data is different", async () => {
    expect(triage).toHaveLength(30);
    expect(triage.every((instance) => instance.data.accountId === GLOBEX)).toBe(true);
    expect(demoAll.every((instance) => instance.data.accountId === ACME)).toBe(true);
    expect(overlap(triage, demoAll)).toEqual([]);
    // The other key on the demo account or definition, and the demo key on the other's, are all "not found".
    await error(await request(listPath(orderNotifications), {}, { key: OTHER_KEY }), 404, 1300);
    await error(await request(listPath(orderNotifications, GLOBEX), {}, { key: OTHER_KEY }), 404, 1300);
    await error(await request(listPath(supportTriage, GLOBEX)), 404, 1300);
    await error(await request(listPath(supportTriage)), 404, 1300);
    // A key's own definition under the other account's id is "not found" too.
    await error(await request(listPath(orderNotifications, GLOBEX)), 404, 1300);
    await error(await request(listPath(supportTriage, ACME), {}, { key: OTHER_KEY }), 404, 1300);
  });
});

describe("data volume and realism", () => {
  it("at least 3 definitions with instances, one with >= 1,200 in its latest version", async () => {
    const counts = {
      orderNotifications: demoAll.filter((i) => i.definitionId === orderNotifications).length,
      smsKeywordRouter: demoAll.filter((i) => i.definitionId === smsKeywordRouter).length,
      appointmentReminders: demoAll.filter((i) => i.definitionId === appointmentReminders).length,
    };
    expect(counts).toEqual({ orderNotifications: 1600, smsKeywordRouter: 400, appointmentReminders: 180 });
    expect(orderV2.length).toBeGreaterThanOrEqual(1200);
    // The emulated route's pages add up to the simulator's whole collection.
    const truth = await eightByEightSim.items<Instance>({ definitionId: orderNotifications, version: "2" });
    expect(workflowIds(orderV2)).toEqual(workflowIds(truth.items));
  });

  it("ids: 24-hex workflowIds embedding the start second (as the docs' ids do), UUID definition ids", () => {
    for (const doc of eightByEightInstances) {
      expect(doc.workflowId).toMatch(OBJECT_ID);
      expect(doc.definitionId).toMatch(UUID);
      expect(Number.parseInt(doc.workflowId.slice(0, 8), 16)).toBe(Math.floor(startedMs(doc) / 1000));
    }
    const all = [...demoAll, ...triage];
    expect(new Set(workflowIds(all)).size).toBe(all.length);
    const offenders = all.filter(
      (instance) =>
        !OBJECT_ID.test(instance.workflowId) ||
        !UUID.test(instance.definitionId) ||
        Number.parseInt(instance.workflowId.slice(0, 8), 16) !== Math.floor(startedMs(instance) / 1000),
    );
    expect(workflowIds(offenders)).toEqual([]);
  });

  it("a mix of all four documented statuses", () => {
    const seen = new Map<string, number>();
    for (const instance of demoAll) seen.set(instance.status, (seen.get(instance.status) ?? 0) + 1);
    expect([...seen.keys()].sort()).toEqual([...STATUSES].sort());
    expect(seen.get("Complete")).toBeGreaterThan(demoAll.length / 2);
  });

  // Was "startedAt distinct per definition": the tie tests below replace that.
  it("timestamps: .NET style like the docs; triggered before started", () => {
    for (const doc of eightByEightInstances) {
      expect(doc.startedAt).toMatch(DOTNET_MS);
      expect(doc.data.triggeredAt).toMatch(DOTNET_TICKS);
    }
    const offenders = [...demoAll, ...triage].filter(
      ({ startedAt, completedAt, data }) =>
        !DOTNET_MS.test(startedAt) ||
        (completedAt !== null && !DOTNET_MS.test(completedAt)) ||
        !DOTNET_TICKS.test(data.triggeredAt ?? "") ||
        !(Date.parse(data.triggeredAt ?? "") <= Date.parse(startedAt)),
    );
    expect(workflowIds(offenders)).toEqual([]);
  });

  it("determinism: after POST /__admin/reset the same request returns byte-identical JSON", async () => {
    const read = async () =>
      Promise.all(
        [orderNotifications, appointmentReminders].map(async (d) =>
          (await request(listPath(d), { limit: 500 })).text(),
        ),
      );
    const before = await read();
    await mutate.insert({ definitionId: orderNotifications, count: 2 });
    await mutate.setStatus({ workflowId: at(orderV2, 3).workflowId, status: "Suspended" });
    await mutate.insert({ definitionId: appointmentReminders, count: 1, status: "Complete" });
    const changed = await read();
    for (const [i, body] of changed.entries()) expect(body).not.toBe(before[i]);
    await eightByEightSim.reset();
    expect(await read()).toEqual(before);
  });
});

describe("admin API", () => {
  it("insert puts new instances at the head: first in the default listing and newer than everything", async () => {
    const inserted = (await mutate.insert({ definitionId: orderNotifications, count: 2, tie_head: false })).items;
    expect(inserted).toHaveLength(2);
    expect(shapeOf(inserted, INSTANCE_RULES)).toEqual(shapeOf(eightByEightInstances, INSTANCE_RULES));
    const page = await list(orderNotifications);
    expect(page.slice(0, 2)).toEqual(inserted);
    expect(page.slice(2, 100)).toEqual(orderV2.slice(0, 98));
    expect(startedMs(at(inserted, 1))).toBeGreaterThan(startedMs(at(orderV2, 0)));
    expect(inserted.every((instance) => instance.status === "Runnable" && instance.version === 2)).toBe(true);
    expect(await list(orderNotifications, { offset: orderV2.length })).toHaveLength(2);
  });

  it("insert into a higher version publishes it: the default listing switches to that version", async () => {
    const [published] = (await mutate.insert({ definitionId: appointmentReminders, count: 1, version: 4 })).items;
    expect(await list(appointmentReminders)).toEqual([published]);
    expect(await list(appointmentReminders, { version: 3 })).toHaveLength(60);
  });

  it("status change: Complete sets completedAt, any other status clears it", async () => {
    const target = orderV2.find((instance, i) => i > 200 && instance.status === "Terminated");
    if (target === undefined) throw new Error("no terminated instance");
    const single = `${listPath(orderNotifications)}/${target.workflowId}`;
    await mutate.setStatus({ workflowId: target.workflowId, status: "Complete" });
    const completed = (await (await request(single)).json()) as Instance;
    expect(completed.status).toBe("Complete");
    expect(completed.completedAt).toMatch(DOTNET_MS);
    expect(await listAll(orderNotifications, { status: "Complete" })).toContainEqual(completed);
    await mutate.setStatus({ workflowId: target.workflowId, status: "Suspended" });
    expect(await (await request(single)).json()).toMatchObject({ status: "Suspended", completedAt: null });
  });

  it("counters count every request per route pattern (401s and 4xx too, not unknown routes); clear and reset zero them", async () => {
    const route = "GET /api/v1/accounts/:accountId/definitions/:definitionId/workflows";
    await eightByEightSim.clearCounters();
    await request(listPath(orderNotifications));
    await request(listPath(orderNotifications), {}, { key: null });
    await request(listPath("not-a-uuid"));
    await request(`${listPath(orderNotifications)}/${at(orderV2, 0).workflowId}`);
    await error(await request("/api/v1/nope"), 404, 1404);
    // Only the one successful list request served items: the default limit of 100.
    expect(await eightByEightSim.counters()).toEqual({
      total: 4,
      items: 100,
      routes: { [route]: 3, [`${route}/:workflowId`]: 1 },
    });
    expect(await eightByEightSim.clearCounters()).toEqual({ total: 0, items: 0, routes: {} });
    await request(listPath(smsKeywordRouter));
    expect((await eightByEightSim.counters()).routes).toEqual({ [route]: 1 });
    await eightByEightSim.reset();
    expect(await eightByEightSim.counters()).toEqual({ total: 0, items: 0, routes: {} });
  });
});

describe("faults", () => {
  it("latency: the response is held while the injected latency lasts, and clearing faults releases it", async () => {
    const { id } = await eightByEightSim.fault({ latency_ms: 60_000, times: 1 });
    let answered = false;
    const pending = request(listPath(orderNotifications)).then((res) => {
      answered = true;
      return res;
    });
    // Order, not time: once the simulator counts the request as faulted, it is still unanswered.
    await expect.poll(async () => (await eightByEightSim.faults()).faults.find((f) => f.id === id)?.hits).toBe(1);
    // Several round trips later (an unheld answer would have arrived by now), still unanswered.
    for (let i = 0; i < 5; i++) await eightByEightSim.getSettings();
    expect(answered).toBe(false);
    await eightByEightSim.clearFaults();
    expect((await pending).status).toBe(200);
  });

  it("5xx: the injected status with 8x8's error body (code 1000 + status, sim assumption), before auth, `times`", async () => {
    await eightByEightSim.fault({ route: "/workflows", status: 503, times: 2 });
    await error(await request(listPath(orderNotifications), {}, { key: null }), 503, 1503);
    await error(await request(listPath(orderNotifications)), 503, 1503);
    expect((await request(listPath(orderNotifications))).status).toBe(200);
  });

  it("429 with Retry-After", async () => {
    await eightByEightSim.fault({ retry_after: 3 });
    const res = await request(listPath(orderNotifications));
    expect(res.headers.get("Retry-After")).toBe("3");
    await error(res, 429, 1429);
  });

  it("malformed: status 200 and a JSON content type, but the body does not parse", async () => {
    const intact = await (await request(listPath(orderNotifications))).text();
    await eightByEightSim.fault({ malformed: true });
    const res = await request(listPath(orderNotifications));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await res.text();
    expect(intact.startsWith(body)).toBe(true);
    expect(body.length).toBeLessThan(intact.length);
    expect(() => JSON.parse(body)).toThrow();
  });

  it("hang: the request never answers (the client gives up); clearing faults restores service", async () => {
    await eightByEightSim.fault({ hang: true });
    await expect(request(listPath(orderNotifications), {}, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject(
      {
        name: "TimeoutError",
      },
    );
    await eightByEightSim.clearFaults();
    const res = await request(listPath(orderNotifications), {}, { signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(200);
  });

  it("page_size_cap: at most N instances per response, from the requested offset", async () => {
    await eightByEightSim.fault({ page_size_cap: 30 });
    expect(await list(orderNotifications)).toEqual(orderV2.slice(0, 30));
    expect(await list(orderNotifications, { limit: 500, offset: 30 })).toEqual(orderV2.slice(30, 60));
    expect(await list(orderNotifications, { limit: 10 })).toEqual(orderV2.slice(0, 10));
  });
});

describe("ties (the docs say nothing about instances started in the same millisecond)", () => {
  it("every demo definition version has exact startedAt ties (>= 5% in groups of 2-5); orderNotifications v2 has one of 51-99", async () => {
    const versions: [string, number][] = [
      [orderNotifications, 1],
      [orderNotifications, 2],
      [smsKeywordRouter, 1],
      [appointmentReminders, 1],
      [appointmentReminders, 2],
      [appointmentReminders, 3],
    ];
    for (const [definition, version] of versions) {
      const instances = demoAll.filter((i) => i.definitionId === definition && i.version === version);
      expect(instances.length).toBeGreaterThan(0);
      expect(smallTied(instances) / instances.length, `${definition} v${version}`).toBeGreaterThanOrEqual(0.05);
    }
    const big = ties(orderV2).filter((group) => group.length > 50);
    expect(big).toHaveLength(1);
    expect(at(big, 0).length).toBeLessThan(100);
    expect(ties(triage).length).toBeGreaterThan(0);
    // Tied instances embed the same start second in their ids and differ by counter.
    for (const group of ties(demoAll)) expect(new Set(group.map((i) => i.workflowId.slice(0, 8))).size).toBe(1);
  });

  it("hidden (default): ties come in a fixed order unrelated to workflowId, the same in every window", async () => {
    const groups = ties(orderV2).map(workflowIds);
    const big = groups.find((group) => group.length > 50) ?? [];
    expect(unordered(big)).toBe(true);
    expect(groups.filter((group) => group.length >= 3 && unordered(group)).length).toBeGreaterThan(1);
    const start = orderV2.findIndex((instance) => instance.workflowId === big[0]);
    expect(await list(orderNotifications, { offset: start, limit: big.length })).toEqual(
      orderV2.slice(start, start + big.length),
    );
    expect(workflowIds(await pagedBy(orderNotifications, 73))).toEqual(workflowIds(orderV2));
  });

  it("window: a tie group's order depends on (offset, limit), but it keeps its offset span", async () => {
    const big = ties(orderV2).find((group) => group.length > 50) ?? [];
    const start = orderV2.findIndex((instance) => instance.workflowId === big[0]?.workflowId);
    expect(startedAts(orderV2.slice(start, start + big.length))).toEqual(startedAts(big));

    await mutate.settings({ tie_order: "window" });
    const [a, b] = await Promise.all([
      list(orderNotifications, { offset: start, limit: big.length }),
      list(orderNotifications, { offset: start, limit: big.length + 1 }),
    ]);
    expect(workflowIds(a).sort()).toEqual(workflowIds(big).sort());
    expect(workflowIds(b.slice(0, big.length)).sort()).toEqual(workflowIds(big).sort());
    expect(workflowIds(a)).not.toEqual(workflowIds(b.slice(0, big.length)));
    // Only the order within tie groups varies: every offset keeps its startedAt in any window.
    const paged = await pagedBy(orderNotifications, 50);
    expect(startedAts(paged)).toEqual(startedAts(orderV2));
    // Which is why walking offset by offset can skip some tied instances and repeat others.
    expect(new Set(workflowIds(paged)).size).toBeLessThan(paged.length);
  });

  it("insert: some inserted instances tie with each other; tie_head makes the first tie with the version's newest", async () => {
    const newest = startedMs(at(orderV2, 0));
    const burst = (await mutate.insert({ definitionId: orderNotifications, count: 20, tie_head: true })).items;
    expect(startedMs(at(burst, burst.length - 1))).toBe(newest);
    expect(ties(burst).length).toBeGreaterThan(0);
    const head = await list(orderNotifications, { limit: 40 });
    expect(head.filter((instance) => startedMs(instance) === newest).map((i) => i.workflowId)).toContain(
      at(burst, burst.length - 1).workflowId,
    );
  });
});

describe("versions and settings", () => {
  it("publish: latestVersion + 1 with no instances; the default listing switches to it, inserts go into it", async () => {
    const published = await mutate.publish({ definitionId: orderNotifications });
    expect(published).toMatchObject({
      id: orderNotifications,
      latestVersion: 3,
      instancesByVersion: { "1": 300, "2": 1300, "3": 0 },
      total: 1600,
    });
    expect(await list(orderNotifications)).toEqual([]);
    expect(await listAll(orderNotifications, { version: 2 })).toEqual(orderV2);
    const inserted = (await mutate.insert({ definitionId: orderNotifications, count: 3 })).items;
    expect(inserted.every((instance) => instance.version === 3)).toBe(true);
    expect(await list(orderNotifications)).toEqual(inserted);
    const unknown = await fetch(`${BASE}/__admin/publish`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ definitionId: UNKNOWN_DEFINITION }),
    });
    expect(unknown.status).toBe(404);
  });

  it("settings: no hidden cap on 8x8 by default; strict bodies; reset restores the defaults", async () => {
    expect(await eightByEightSim.getSettings()).toEqual({ tie_order: "hidden", page_size_cap: null });
    expect(await list(orderNotifications, { limit: 500 })).toHaveLength(500);
    await mutate.settings({ page_size_cap: 120 });
    expect(await list(orderNotifications, { limit: 500 })).toEqual(orderV2.slice(0, 120));
    for (const body of [{ colour: 1 }, { tie_order: "by_id" }, { page_size_cap: -1 }]) {
      const res = await fetch(`${BASE}/__admin/settings`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    await mutate.settings({ tie_order: "window" });
    expect(await eightByEightSim.getSettings()).toEqual({ tie_order: "window", page_size_cap: 120 });
    await eightByEightSim.reset();
    expect(await eightByEightSim.getSettings()).toEqual({ tie_order: "hidden", page_size_cap: null });
  });
});
