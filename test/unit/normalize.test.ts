import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eightByEightStatus, normalizeEightByEightInstance } from "../../src/providers/eightbyeight/normalize";
import {
  EightByEightErrorSchema,
  EightByEightInstanceSchema,
  EightByEightListSchema,
} from "../../src/providers/eightbyeight/schemas";
import {
  inkitBatchStatus,
  inkitRunStatus,
  normalizeInkitBatch,
  normalizeInkitRun,
} from "../../src/providers/inkit/normalize";
import { InkitBatchSchema, InkitRunSchema, inkitListSchema } from "../../src/providers/inkit/schemas";
import { BatchSchema } from "../../src/schemas/batch";
import { RunSchema } from "../../src/schemas/run";
import { toRfc3339 } from "../../src/shared/time";
import {
  eightByEightErrors,
  eightByEightInstances,
  inkitDocumentBatch,
  inkitDocumentBatchesPage,
  inkitRunsPage,
  inkitWorkflowBatchesPage,
} from "../fixtures/seeds";

const [inkitRun1, inkitRun2] = inkitRunsPage.items;
const [instance1] = eightByEightInstances;
if (!inkitRun1 || !inkitRun2 || !instance1) throw new Error("seed fixtures are incomplete");

const REMOVE = Symbol("remove");

/** A deep copy of `value` with the key at `path` set to `next` (or deleted): for building malformed upstream answers. */
function edited(value: unknown, path: readonly (string | number)[], next: unknown): unknown {
  const copy = structuredClone(value);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1) ?? "";
  if (next === REMOVE) delete node[last];
  else node[last] = next;
  return copy;
}

describe("upstream schemas accept the vendors' documented examples unchanged", () => {
  it.each([
    ["Inkit runs (000)", inkitListSchema(InkitRunSchema), inkitRunsPage],
    ["Inkit workflow batches (001)", inkitListSchema(InkitBatchSchema), inkitWorkflowBatchesPage],
    ["Inkit document batch (002)", InkitBatchSchema, inkitDocumentBatch],
    ["Inkit document batches (004)", inkitListSchema(InkitBatchSchema), inkitDocumentBatchesPage],
    ["8x8 instances (003)", EightByEightListSchema, eightByEightInstances],
  ] as const)("%s", (_, schema, seed) => {
    expect(schema.parse(seed)).toEqual(seed);
  });

  it("8x8 error bodies (003)", () => {
    for (const body of eightByEightErrors) expect(EightByEightErrorSchema.parse(body)).toEqual(body);
  });

  it("keeps keys the vendors add later, including a new destination type, in type order", () => {
    const withField = edited(inkitRun2, ["updated_at"], "2023-11-07T02:31:23.000000Z");
    const destination = { azure_blob_piece_id: "az_1", status: "Queued" };
    const run = edited(withField, ["destinations", "azure_blob"], destination);
    const parsed = InkitRunSchema.parse(run);
    expect(parsed).toEqual(run);
    expect(normalizeInkitRun(parsed).destinations.map((d) => [d.type, d.piece_id, d.status])).toEqual([
      ["azure_blob", "az_1", "Queued"],
      ["inkit_storage", "doc_2jFOVLmh0e5PYmDeENACgN", "Completed"],
      ["sepire", "mp_3rD7NiYDewMnxp8YVstIh0", "Failed"],
    ]);
  });
});

describe("upstream schemas reject malformed answers", () => {
  type Case = [string, (string | number)[], unknown];

  it.each<Case>([
    ["missing id", ["id"], REMOVE],
    ["numeric id", ["id"], 42],
    ["unparseable created_at", ["created_at"], "yesterday"],
    ["created_at without offset", ["created_at"], "2023-11-07T02:31:22.232287"],
    ["string template_version", ["template_version"], "2"],
    ["missing status", ["status"], REMOVE],
    ["merge_parameters not an object", ["merge_parameters"], "lname=Mayer"],
    ["numeric piece id", ["destinations", "inkit_storage", "document_id"], 7],
    ["a destination that is not an object", ["destinations", "onedrive"], "Completed"],
  ])("Inkit run: %s", (_, path, next) => {
    expect(InkitRunSchema.safeParse(edited(inkitRun1, path, next)).success).toBe(false);
  });

  it.each<Case>([
    ["missing id", ["id"], REMOVE],
    ["negative total", ["total"], -1],
    ["fractional count", ["destinations", "inkit_storage", "count"], 1.5],
    ["missing in_progress", ["destinations", "inkit_storage", "in_progress"], REMOVE],
    ["absent name (null is fine, absent is not)", ["name"], REMOVE],
  ])("Inkit batch: %s", (_, path, next) => {
    expect(InkitBatchSchema.safeParse(edited(inkitDocumentBatch, path, next)).success).toBe(false);
  });

  it.each<Case>([
    ["without pagination metadata", ["metadata", "pagination"], REMOVE],
    ["with one item missing its id", ["items", 1, "id"], REMOVE],
    ["with items that are not a list", ["items"], {}],
  ])("Inkit list %s", (_, path, next) => {
    expect(inkitListSchema(InkitRunSchema).safeParse(edited(inkitRunsPage, path, next)).success).toBe(false);
  });

  it.each<Case>([
    ["missing workflowId", ["workflowId"], REMOVE],
    ["version 0", ["version"], 0],
    ["missing data.accountId", ["data", "accountId"], REMOVE],
    ["unparseable startedAt", ["startedAt"], "string"],
    ["absent completedAt (it is null until completion)", ["completedAt"], REMOVE],
    ["numeric status", ["status"], 3],
  ])("8x8 instance: %s", (_, path, next) => {
    expect(EightByEightInstanceSchema.safeParse(edited(instance1, path, next)).success).toBe(false);
  });

  it("8x8 list that is not a bare array", () => {
    expect(EightByEightListSchema.safeParse({ items: eightByEightInstances }).success).toBe(false);
  });

  it("8x8 error with a string code", () => {
    expect(EightByEightErrorSchema.safeParse(edited(eightByEightErrors[0], ["code"], "1000")).success).toBe(false);
  });
});

describe("normalizeInkitRun", () => {
  it("maps the first documented run field by field, and the result is a valid Run", () => {
    const run = normalizeInkitRun(InkitRunSchema.parse(inkitRun1));
    expect(run).toEqual({
      id: "rend_2DhtpDQ5ErIaNJQRtCpKfN",
      provider: "inkit",
      status: "completed",
      provider_status: "Completed",
      name: null,
      created_at: "2023-11-07T02:31:22.232287Z",
      completed_at: null,
      workflow: { id: "flow_1HsyLDikoFkeLg0ZkgIq57", name: "Hi", version: null },
      batch_id: null,
      description: null,
      destination_status: "Completed",
      destinations: [
        { type: "inkit_storage", status: "Completed", piece_id: "doc_NB1RnyuzZkN6HAJ4xVWOO", document_name: "Hi.pdf" },
      ],
      merge_parameters: { lname: "Mayer", name: "Andrew" },
      template: null,
      workflow_created_at: "2023-10-25T16:13:39.170009Z",
    });
    expect(RunSchema.parse(run)).toEqual(run);
  });

  it("maps a template render without a flow, with destinations in type order", () => {
    const run = normalizeInkitRun(InkitRunSchema.parse(inkitRun2));
    expect(RunSchema.parse(run)).toEqual(run);
    expect(run.workflow).toBeNull();
    expect(run.workflow_created_at).toBeNull();
    expect(run.template).toEqual({ id: "tmpl_1oR7iN7IBiEkOP39aHWfPm", version: 2 });
    expect(run.status).toBe("completed");
    expect(run.destination_status).toBe("Failed");
    expect(run.merge_parameters).toEqual({});
    expect(run.destinations).toEqual([
      { type: "inkit_storage", status: "Completed", piece_id: "doc_2jFOVLmh0e5PYmDeENACgN", document_name: "demo" },
      { type: "sepire", status: "Failed", piece_id: "mp_3rD7NiYDewMnxp8YVstIh0", document_name: null },
    ]);
  });

  it("reads each known destination type's own piece id key", () => {
    const pieceKeys = {
      sepire: "mail_piece_id",
      salesforce: "salesforce_piece_id",
      magic_link: "magic_link_piece_id",
      inkit_storage: "document_id",
      google_drive: "google_drive_piece_id",
      dropbox: "dropbox_piece_id",
      docusign: "docusign_piece_id",
      box: "box_piece_id",
      amazon_s3: "amazon_s3_piece_id",
    };
    const destinations = Object.fromEntries(
      Object.entries(pieceKeys).map(([type, key]) => [type, { [key]: `${type}-piece`, status: "Pending" }]),
    );
    const run = normalizeInkitRun(InkitRunSchema.parse({ ...inkitRun1, destinations }));
    expect(run.destinations.map((d) => d.type)).toEqual(Object.keys(pieceKeys).reverse());
    for (const d of run.destinations) expect(d.piece_id).toBe(`${d.type}-piece`);
    expect(run.destinations.filter((d) => d.document_name !== null)).toEqual([]);
  });

  it("a destination still queued, with null piece id and status, stays in the list", () => {
    const run = normalizeInkitRun(
      InkitRunSchema.parse({ ...inkitRun1, destinations: { box: { box_piece_id: null, status: null } } }),
    );
    expect(run.destinations).toEqual([{ type: "box", status: null, piece_id: null, document_name: null }]);
  });

  it("a destination sent as null is absent, not an empty entry", () => {
    const destinations = { ...inkitRun1.destinations, box: null, azure_blob: null };
    const run = normalizeInkitRun(InkitRunSchema.parse({ ...inkitRun1, destinations }));
    expect(run.destinations.map((d) => d.type)).toEqual(["inkit_storage"]);
  });

  it("keeps merge parameters verbatim, nested values included", () => {
    const merge_parameters = { name: "Andrew", address: { city: "Austin", lines: ["1 Main St"] }, amount: 12.5 };
    expect(normalizeInkitRun(InkitRunSchema.parse({ ...inkitRun1, merge_parameters })).merge_parameters).toEqual(
      merge_parameters,
    );
  });

  it.each([
    ["Completed", "completed"],
    ["COMPLETED", "completed"],
    ["In Progress", "running"],
    ["in progress", "running"],
    ["Processing", "running"],
    ["Running", "running"],
    ["Pending", "pending"],
    [" Queued ", "pending"],
    ["Scheduled", "pending"],
    ["Failed", "failed"],
    ["Error", "failed"],
    ["Cancelled", "unknown"],
    ["", "unknown"],
  ])("run status %j → %s", (text, status) => {
    expect(inkitRunStatus(text)).toBe(status);
  });
});

describe("normalizeInkitBatch", () => {
  const all = [
    ...inkitWorkflowBatchesPage.items.map((b) => ({ b, kind: "workflow_batch" as const })),
    ...inkitDocumentBatchesPage.items.map((b) => ({ b, kind: "document_batch" as const })),
    { b: inkitDocumentBatch, kind: "document_batch" as const },
  ];

  it("every documented batch (2 + 7 + 1) normalizes to a valid Batch keeping id, total and timestamps", () => {
    expect(all).toHaveLength(10);
    for (const { b, kind } of all) {
      const batch = normalizeInkitBatch(InkitBatchSchema.parse(b), kind);
      expect(BatchSchema.parse(batch)).toEqual(batch);
      expect(batch).toMatchObject({ id: b.id, kind, total: b.total, provider_status: b.status, name: b.name });
      expect(batch.created_at).toBe(b.created_at);
    }
  });

  it("maps the first workflow batch field by field", () => {
    const [first] = inkitWorkflowBatchesPage.items;
    expect(normalizeInkitBatch(InkitBatchSchema.parse(first), "workflow_batch")).toEqual({
      id: "fb_5s6Sy8bUjdRscqwSJ2hmCc",
      provider: "inkit",
      kind: "workflow_batch",
      name: "Batch Name",
      status: "in_progress",
      provider_status: "In Progress",
      total: 1,
      created_at: "2023-11-07T03:05:52.298042Z",
      destinations: [{ type: "inkit_storage", count: 1, completed: 1, failed: 0, in_progress: 0, status: "completed" }],
    });
  });

  it("a destination without a status (002) gets status null", () => {
    const batch = normalizeInkitBatch(InkitBatchSchema.parse(inkitDocumentBatch), "document_batch");
    expect(batch.status).toBe("completed");
    expect(batch.destinations).toEqual([
      { type: "inkit_storage", count: 1, completed: 1, failed: 0, in_progress: 0, status: null },
    ]);
  });

  it("a batch with no destinations yet (004) has an empty list and is in progress", () => {
    const pending = inkitDocumentBatchesPage.items.find((b) => b.id === "rb_4R8u6FWWenZtmI7jiBl07r");
    const batch = normalizeInkitBatch(InkitBatchSchema.parse(pending), "document_batch");
    expect(batch.destinations).toEqual([]);
    expect(batch.status).toBe("in_progress");
    expect(batch.name).toBeNull();
  });

  it("destinations are sorted by type, unknown types kept", () => {
    const counts = { count: 1, completed: 0, failed: 0, in_progress: 1 };
    const destinations = { sepire: counts, onedrive: counts, docusign: counts };
    const batch = normalizeInkitBatch(
      InkitBatchSchema.parse({ ...inkitDocumentBatch, destinations }),
      "document_batch",
    );
    expect(batch.destinations.map((d) => d.type)).toEqual(["docusign", "onedrive", "sepire"]);
  });

  it.each([
    ["Completed", "completed"],
    ["In Progress", "in_progress"],
    ["PROCESSING", "in_progress"],
    ["Running", "in_progress"],
    ["Pending", "pending"],
    ["Queued", "pending"],
    ["Scheduled", "pending"],
    ["Failed", "failed"],
    ["error", "failed"],
    ["Partially Failed", "unknown"],
  ])("batch status %j → %s", (text, status) => {
    expect(inkitBatchStatus(text)).toBe(status);
  });
});

describe("normalizeEightByEightInstance", () => {
  it("maps the documented instance field by field, context untouched, and the result is a valid Run", () => {
    const run = normalizeEightByEightInstance(EightByEightInstanceSchema.parse(instance1));
    expect(run).toEqual({
      id: "60dbe307fe55d99fc083db61",
      provider: "8x8",
      status: "completed",
      provider_status: "Complete",
      name: null,
      created_at: "2021-06-30T03:20:39.490000Z",
      completed_at: "2021-06-30T03:21:25.830000Z",
      workflow: { id: "5870442f-3ddd-4657-b74c-6e17308f5230", name: null, version: 1 },
      batch_id: null,
      account_id: "test_account_id",
      sub_account_id: "test_subaccount_id",
      triggered_at: "2021-06-30T03:20:39.385747Z",
      definition_id: "5870442f-3ddd-4657-b74c-6e17308f5230",
      context: instance1.data,
    });
    expect(run.context.triggeredAt).toBe("2021-06-30T03:20:39.3857479Z");
    expect(RunSchema.parse(run)).toEqual(run);
  });

  it("both documented instances normalize to valid, distinct runs", () => {
    const runs = EightByEightListSchema.parse(eightByEightInstances).map(normalizeEightByEightInstance);
    expect(runs.map((r) => RunSchema.parse(r).id)).toEqual(["60dbe307fe55d99fc083db61", "60dbe307fe55d99fc083db62"]);
  });

  it("a running instance without subaccount: nulls, not missing keys", () => {
    const running = {
      ...instance1,
      status: "Runnable",
      completedAt: null,
      data: { accountId: "acc", triggeredAt: null },
    };
    const run = normalizeEightByEightInstance(EightByEightInstanceSchema.parse(running));
    expect(run).toMatchObject({ status: "running", completed_at: null, sub_account_id: null, triggered_at: null });
    expect(run.context).toEqual({ accountId: "acc", triggeredAt: null });
    expect(RunSchema.parse(run)).toEqual(run);
  });

  it.each([
    ["Runnable", "running"],
    ["Suspended", "suspended"],
    ["Complete", "completed"],
    ["Terminated", "terminated"],
    ["complete", "completed"],
    ["Completed", "unknown"],
    ["Faulted", "unknown"],
  ])("status %j → %s", (text, status) => {
    expect(eightByEightStatus(text)).toBe(status);
  });

  it("a status 8x8 adds later parses and maps to unknown, keeping the text", () => {
    const run = normalizeEightByEightInstance(EightByEightInstanceSchema.parse({ ...instance1, status: "Paused" }));
    expect(run).toMatchObject({ status: "unknown", provider_status: "Paused" });
  });
});

describe("RunSchema and BatchSchema guard the normalized contract", () => {
  const good = normalizeEightByEightInstance(EightByEightInstanceSchema.parse(instance1));

  it("rejects a timestamp that was not normalized", () => {
    expect(RunSchema.safeParse({ ...good, created_at: "2021-06-30T03:20:39.49Z" }).success).toBe(false);
  });

  it("rejects a run whose fields do not match its provider", () => {
    expect(RunSchema.safeParse({ ...good, provider: "inkit" }).success).toBe(false);
  });

  it("rejects an unknown status value", () => {
    expect(RunSchema.safeParse({ ...good, status: "Complete" }).success).toBe(false);
    const batch = normalizeInkitBatch(InkitBatchSchema.parse(inkitDocumentBatch), "document_batch");
    expect(BatchSchema.safeParse({ ...batch, status: "running" }).success).toBe(false);
  });
});

describe("toRfc3339", () => {
  it.each([
    ["truncates 7 fractional digits (8x8)", "2021-06-30T03:20:39.3857479Z", "2021-06-30T03:20:39.385747Z"],
    ["truncates, never rounds up into the next second", "2021-12-31T23:59:59.9999999Z", "2021-12-31T23:59:59.999999Z"],
    ["pads 2 fractional digits (8x8)", "2021-06-30T03:20:39.49Z", "2021-06-30T03:20:39.490000Z"],
    ["adds a fraction when there is none", "2021-07-13T01:28:37Z", "2021-07-13T01:28:37.000000Z"],
    ["keeps 6 digits as they are (Inkit)", "2023-11-07T02:31:22.232287Z", "2023-11-07T02:31:22.232287Z"],
    ["converts a positive offset", "2023-11-07T04:31:22.5+02:00", "2023-11-07T02:31:22.500000Z"],
    ["converts a negative offset across a year end", "2023-12-31T20:00:00.1-05:00", "2024-01-01T01:00:00.100000Z"],
    ["converts a half-hour offset without a colon", "2023-11-07T08:01:22+0530", "2023-11-07T02:31:22.000000Z"],
    ["treats -00:00 as UTC", "2023-11-07T02:31:22-00:00", "2023-11-07T02:31:22.000000Z"],
    ["accepts lowercase t and z", "2024-02-29t12:00:00z", "2024-02-29T12:00:00.000000Z"],
    ["keeps two-digit years", "0050-01-01T00:00:00Z", "0050-01-01T00:00:00.000000Z"],
  ])("%s", (_, input, expected) => {
    expect(toRfc3339(input)).toBe(expected);
  });

  it.each([
    "",
    "yesterday",
    "string",
    "2023-11-07",
    "2023-11-07T02:31:22",
    "2023-11-07T02:31Z",
    "2023-02-29T00:00:00Z",
    "2023-13-01T00:00:00Z",
    "2023-11-07T24:00:00Z",
    "2023-11-07T02:60:00Z",
    "2023-11-07T02:31:22+25:00",
    "2023-11-07T02:31:22.Z",
    " 2023-11-07T02:31:22Z",
    "0000-01-01T00:30:00+01:00",
  ])("throws on %j, naming the input", (input) => {
    expect(() => toRfc3339(input)).toThrow(JSON.stringify(input));
  });

  it("string order equals time order where the raw strings disagree", () => {
    const pairs = [
      ["2021-06-30T03:20:39Z", "2021-06-30T03:20:39.1Z"],
      ["2021-06-30T04:00:00Z", "2021-06-30T05:00:00.5+01:00"],
      ["2021-06-30T05:00:00+02:00", "2021-06-30T04:00:00Z"],
    ] as const;
    for (const [earlier, later] of pairs) {
      expect(toRfc3339(earlier) < toRfc3339(later)).toBe(true);
    }
  });

  it("agrees with Date for any instant and offset (property)", () => {
    const maxMs = Date.UTC(9999, 11, 31, 23, 59, 59, 999) - 14 * 3_600_000;
    fc.assert(
      fc.property(
        fc.integer({ min: 14 * 3_600_000, max: maxMs }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        fc.stringMatching(/^\d{0,4}$/),
        (ms, offset, extraDigits) => {
          const local = new Date(ms + offset * 60_000).toISOString().slice(0, -1);
          const sign = offset < 0 ? "-" : "+";
          const abs = Math.abs(offset);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
          const expected = `${new Date(ms).toISOString().slice(0, -1)}${extraDigits.padEnd(3, "0").slice(0, 3)}Z`;
          expect(toRfc3339(`${local}${extraDigits}${zone}`)).toBe(expected);
        },
      ),
    );
  });
});
