// The Inkit simulator, over real HTTP, against the vendor docs (seeds 000, 001, 002, 004;
// their examples are in test/fixtures/seeds.ts).
// Shapes come from the docs' examples (test/fixtures/seeds.ts); behaviours from the docs' request tables and
// simulator/README.md where the docs are silent (marked "sim assumption" below).
import { beforeAll, describe, expect, it } from "vitest";
import { INKIT_API_TOKENS } from "../../simulator/credentials";
import type { InkitBatch, InkitList, InkitRun } from "../../src/providers/inkit/schemas";
import {
  inkitDocumentBatch,
  inkitDocumentBatchesPage,
  inkitRunsPage,
  inkitWorkflowBatchesPage,
} from "../fixtures/seeds";
import { at, key, type Shape, type ShapeRules, shapeOf } from "../support/shape";
import { inkitSim, mutationsOf } from "../support/simulator";
import { tieGroups } from "../support/truth";

const BASE = inkitSim.url;
const DEMO = INKIT_API_TOKENS.demo;
const OTHER = INKIT_API_TOKENS.other;

// Pagination: seed 000 shows numbers for next_page/prev_page, seeds 001 and 004 show null.
const PAGINATION_NULLABLE = { "metadata.pagination.next_page": "number", "metadata.pagination.prev_page": "number" };

const RUN_RULES: ShapeRules = {
  nullable: {
    ...PAGINATION_NULLABLE,
    // The two seed 000 items differ here: a flow run (flow_* set, template_* null) and a template run (the reverse).
    "items[].flow_created_at": "string",
    "items[].flow_id": "string",
    "items[].flow_name": "string",
    "items[].template_id": "string",
    "items[].template_version": "number",
    // Typed String in seed 000's table but null in both examples: the simulator sets them on some runs.
    "items[].description": "string",
    "items[].name": "string",
    "items[].flows_batch_id": "string",
  },
  // Per-destination-type objects and free-form merge parameters: checked by their own tests below.
  opaque: ["items[].destinations", "items[].merge_parameters"],
};

const BATCH_RULES: ShapeRules = {
  // Seed 001 shows names, seed 004 shows null for most and "test" for one.
  nullable: { ...PAGINATION_NULLABLE, "items[].name": "string", name: "string" },
  opaque: ["items[].destinations", "destinations"],
};

/** Seed 000's per-type tables: each run destination is `{<piece id field>, status}`, inkit_storage differs. */
const RUN_DESTINATION_FIELDS: Record<string, string[]> = {
  amazon_s3: ["amazon_s3_piece_id", "status"],
  box: ["box_piece_id", "status"],
  docusign: ["docusign_piece_id", "status"],
  dropbox: ["dropbox_piece_id", "status"],
  google_drive: ["google_drive_piece_id", "status"],
  inkit_storage: ["document_id", "name", "status"],
  magic_link: ["magic_link_piece_id", "status"],
  salesforce: ["salesforce_piece_id", "status"],
  sepire: ["mail_piece_id", "status"],
};
const RUN_DESTINATION_SHAPES: Record<string, Shape> = Object.fromEntries(
  Object.entries(RUN_DESTINATION_FIELDS).map(([type, fields]) => [
    type,
    Object.fromEntries(fields.map((f) => [f, "string"])),
  ]),
);
/** Seed 001's destination table (workflow batches). */
const WORKFLOW_BATCH_DESTINATIONS = Object.keys(RUN_DESTINATION_FIELDS);
/** Seed 002's destination table (document batches; seed 004's table names only inkit_storage). */
const DOCUMENT_BATCH_DESTINATIONS = ["docusign", "inkit_storage", "magic_link", "salesforce", "sepire"];

const ID = (prefix: string) => new RegExp(`^${prefix}_[0-9A-Za-z]{20,22}$`);
const INKIT_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

// ---------------------------------------------------------------------------------------------------------------
// HTTP helpers

type Query = Record<string, string | number>;

function request(path: string, query: Query = {}, options: { token?: string | null; signal?: AbortSignal } = {}) {
  const url = new URL(path, BASE);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  const token = options.token === undefined ? DEMO : options.token;
  return fetch(url, { headers: token === null ? {} : { "X-Inkit-API-Token": token }, signal: options.signal });
}

async function list<T = InkitRun>(path: string, query: Query = {}, token: string = DEMO): Promise<InkitList<T>> {
  const res = await request(path, query, { token });
  expect(res.status, `${path} ${JSON.stringify(query)}`).toBe(200);
  return (await res.json()) as InkitList<T>;
}

const runs = (query: Query = {}, token?: string) => list<InkitRun>("/v1/invoke", query, token);
const workflowBatches = (query: Query = {}, token?: string) => list<InkitBatch>("/v1/invoke/batch", query, token);
const documentBatches = (query: Query = {}, token?: string) => list<InkitBatch>("/v1/batch", query, token);

const ids = (items: readonly { id: string }[]) => items.map((item) => item.id);
const createdAts = (items: readonly { created_at: string }[]) => items.map((item) => item.created_at);

/** Inkit serves at most this many items per page by default (simulator/README.md). */
const CAP = 100;

/** Every page of a listing at the largest page size the cap allows, concatenated. */
async function listAll<T = InkitRun>(path: string, query: Query = {}, token: string = DEMO): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1; ; page++) {
    const body = await list<T>(path, { page_size: CAP, ...query, page }, token);
    all.push(...body.items);
    if (body.metadata.pagination.next_page === null) return all;
    if (page > 100) throw new Error(`${path}: more than 100 pages; is page ignored?`);
  }
}

/** The raw bodies of every page, for byte-level comparisons. */
async function allPagesText(path: string, query: Query = {}): Promise<string[]> {
  const first = await list(path, { page_size: CAP, ...query });
  const pages = Array.from({ length: first.metadata.pagination.page_count }, (_, i) => i + 1);
  return Promise.all(pages.map(async (page) => (await request(path, { page_size: CAP, ...query, page })).text()));
}

/** The tie groups of a list (items sharing created_at), and how many items sit in groups of 2 to 5. */
function tieStats(items: readonly { id: string; created_at: string }[]) {
  const groups = tieGroups(items, (item) => item.created_at);
  const small = groups.filter((group) => group.length <= 5).reduce((sum, group) => sum + group.length, 0);
  return { groups, small, largest: Math.max(0, ...groups.map((group) => group.length)) };
}

const isSorted = (values: readonly string[]) => values.every((v, i) => i === 0 || (values[i - 1] ?? "") <= v);
/** Neither ascending nor descending. */
const unordered = (values: readonly string[]) => !isSorted(values) && !isSorted([...values].reverse());

// The seeded data, read once through the emulated routes (reset first: earlier files may have changed it).
let allRuns: InkitRun[];
let allWorkflowBatches: InkitBatch[];
let allDocumentBatches: InkitBatch[];

beforeAll(async () => {
  await inkitSim.reset();
  [allRuns, allWorkflowBatches, allDocumentBatches] = await Promise.all([
    listAll<InkitRun>("/v1/invoke"),
    listAll<InkitBatch>("/v1/invoke/batch"),
    listAll<InkitBatch>("/v1/batch"),
  ]);
});

// A reset regenerates 3,000 runs (~100 ms), so only tests that change data pay for one. Faults are always cleared.
const mutate = mutationsOf(inkitSim);

// ---------------------------------------------------------------------------------------------------------------

describe("shapes match every Inkit example in the seed docs", () => {
  it("shapeOf: the docs' examples agree with themselves under the rules, and a stray key or type is caught", () => {
    expect(shapeOf(inkitRunsPage, RUN_RULES)).toEqual(
      shapeOf({ ...inkitRunsPage, items: [at(inkitRunsPage.items, 0)] }, RUN_RULES),
    );
    const extraKey = { ...inkitRunsPage, items: [{ ...at(inkitRunsPage.items, 0), extra: 1 }] };
    expect(shapeOf(extraKey, RUN_RULES)).not.toEqual(shapeOf(inkitRunsPage, RUN_RULES));
    const wrongType = { ...inkitRunsPage, items: [{ ...at(inkitRunsPage.items, 0), template_version: "2" }] };
    expect(shapeOf(wrongType, RUN_RULES)).not.toEqual(shapeOf(inkitRunsPage, RUN_RULES));
    // The docs' own destination objects agree with the per-type tables transcribed above.
    for (const run of inkitRunsPage.items)
      for (const [type, piece] of Object.entries(run.destinations))
        expect(shapeOf(piece)).toEqual(RUN_DESTINATION_SHAPES[type]);
  });

  it("seed 000: GET /v1/invoke (default page and all 3,000 runs) has the docs' envelope, metadata and item shape", async () => {
    const expected = shapeOf(inkitRunsPage, RUN_RULES);
    const first = await runs();
    expect(shapeOf(first, RUN_RULES)).toEqual(expected);
    expect(shapeOf({ ...first, items: allRuns }, RUN_RULES)).toEqual(expected);
    // Exactly the docs' keys in the docs' order, on every item.
    const docKeys = Object.keys(at(inkitRunsPage.items, 0));
    expect(ids(allRuns.filter((run) => key(Object.keys(run)) !== key(docKeys)))).toEqual([]);
    expect(Object.keys(first)).toEqual(Object.keys(inkitRunsPage));
    expect(Object.keys(first.metadata.pagination)).toEqual(Object.keys(inkitRunsPage.metadata.pagination));
    expect(Object.keys(first.metadata.sort)).toEqual(Object.keys(inkitRunsPage.metadata.sort));
  });

  it("seed 000: flow_* and template_* are null exactly as in one of the docs' two items (flow run or template run)", () => {
    const pattern = (run: InkitRun) =>
      [run.flow_created_at, run.flow_id, run.flow_name, run.template_id, run.template_version].map((v) => v === null);
    const documented = inkitRunsPage.items.map((run) => key(pattern(run).map(String)));
    const seen = new Set(allRuns.map((run) => key(pattern(run).map(String))));
    expect([...seen].sort()).toEqual([...documented].sort());
  });

  it("seed 000: every run destination has its type's documented fields, all strings; merge_parameters are strings", () => {
    // One expect per offence class (not per item): offenders are listed as "<run id> <what>".
    const offenders = allRuns.flatMap((run) => [
      ...(Object.keys(run.destinations).length === 0 ? [`${run.id} no destinations`] : []),
      ...Object.entries(run.destinations).flatMap(([type, piece]) => {
        const expected = RUN_DESTINATION_SHAPES[type];
        return expected !== undefined && key(shapeOf(piece)) === key(expected) ? [] : [`${run.id} ${type}`];
      }),
      ...Object.values(run.merge_parameters).flatMap((v) => (typeof v === "string" ? [] : [`${run.id} merge`])),
    ]);
    expect(offenders).toEqual([]);
    // Both merge_parameters forms of the docs appear: filled and `{}`.
    expect(allRuns.some((run) => Object.keys(run.merge_parameters).length === 0)).toBe(true);
    expect(allRuns.some((run) => Object.keys(run.merge_parameters).length > 0)).toBe(true);
  });

  it("seed 001: GET /v1/invoke/batch has the docs' shape; destinations are {completed,count,failed,in_progress,status}", async () => {
    const expected = shapeOf(inkitWorkflowBatchesPage, BATCH_RULES);
    expect(shapeOf(await workflowBatches(), BATCH_RULES)).toEqual(expected);
    const page = await workflowBatches({ page_size: CAP });
    expect(shapeOf(page, BATCH_RULES)).toEqual(expected);
    const docDestination = shapeOf(inkitWorkflowBatchesPage.items[0]?.destinations.inkit_storage);
    for (const batch of allWorkflowBatches) {
      expect(Object.keys(batch)).toEqual(Object.keys(at(inkitWorkflowBatchesPage.items, 0)));
      for (const [type, destination] of Object.entries(batch.destinations)) {
        expect(WORKFLOW_BATCH_DESTINATIONS).toContain(type);
        expect(shapeOf(destination), `${batch.id} ${type}`).toEqual(docDestination);
      }
    }
  });

  it("seed 004: GET /v1/batch has the docs' shape, including stuck batches with destinations {}", async () => {
    const expected = shapeOf(inkitDocumentBatchesPage, BATCH_RULES);
    expect(shapeOf(await documentBatches(), BATCH_RULES)).toEqual(expected);
    expect(shapeOf(await documentBatches({ page_size: CAP }), BATCH_RULES)).toEqual(expected);
    const docDestination = shapeOf(inkitDocumentBatchesPage.items[0]?.destinations.inkit_storage);
    for (const batch of allDocumentBatches) {
      expect(Object.keys(batch)).toEqual(Object.keys(at(inkitDocumentBatchesPage.items, 0)));
      for (const [type, destination] of Object.entries(batch.destinations)) {
        expect(DOCUMENT_BATCH_DESTINATIONS).toContain(type);
        expect(shapeOf(destination), `${batch.id} ${type}`).toEqual(docDestination);
      }
    }
    // As in seed 004: some batches are "In Progress" with no destinations at all, and names are null or strings.
    const stuck = allDocumentBatches.filter((batch) => Object.keys(batch.destinations).length === 0);
    expect(stuck.length).toBeGreaterThan(0);
    expect(stuck.every((batch) => batch.status === "In Progress")).toBe(true);
    expect(allDocumentBatches.some((batch) => batch.name === null)).toBe(true);
    expect(allDocumentBatches.some((batch) => typeof batch.name === "string")).toBe(true);
  });

  it("seed 002: GET /v1/batch/:batchId has the docs' shape: per-destination counts without status", async () => {
    const expected = shapeOf(inkitDocumentBatch, BATCH_RULES);
    const withDestinations = allDocumentBatches.filter((batch) => Object.keys(batch.destinations).length > 0);
    const docDestination = shapeOf(inkitDocumentBatch.destinations.inkit_storage);
    for (const listed of withDestinations.slice(0, 20)) {
      const res = await request(`/v1/batch/${listed.id}`);
      expect(res.status).toBe(200);
      const single = (await res.json()) as InkitBatch;
      expect(shapeOf(single, BATCH_RULES)).toEqual(expected);
      expect(Object.keys(single)).toEqual(Object.keys(inkitDocumentBatch));
      for (const destination of Object.values(single.destinations))
        expect(shapeOf(destination)).toEqual(docDestination);
      // Same batch as listed, minus the lowercase destination status.
      const { destinations: _d, ...rest } = listed;
      expect(single).toMatchObject(rest);
    }
  });

  it("GET /v1/invoke/batch/:batchId serves the listed workflow batch as is", async () => {
    const listed = at(allWorkflowBatches, 7);
    const res = await request(`/v1/invoke/batch/${listed.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(listed);
  });
});

describe("documented list behaviours", () => {
  it("defaults: page 1, page_size 25; runs sort by updated_at, batches by created_at, both order 1 (as in the docs)", async () => {
    const page = await runs();
    expect(page.items).toHaveLength(25);
    expect(page.metadata.pagination).toMatchObject({
      current_page: 1,
      page_size: 25,
      total_count: 3000,
      page_count: 120,
    });
    expect(page.metadata.sort).toEqual(inkitRunsPage.metadata.sort);
    expect(page).toEqual(await runs({ page: 1, page_size: 25 }));
    for (const batches of [await workflowBatches(), await documentBatches()]) {
      expect(batches.items).toHaveLength(25);
      expect(batches.metadata.sort).toEqual(inkitWorkflowBatchesPage.metadata.sort);
      expect(batches.metadata.pagination).toMatchObject({ current_page: 1, page_size: 25, total_count: 200 });
      // order 1 on created_at lists newest first, like both batch examples.
      const created = batches.items.map((batch) => batch.created_at);
      expect(created).toEqual([...created].sort().reverse());
    }
  });

  // Replaces the old "descending is the exact reverse of ascending": ties now keep their hidden order both ways.
  it("sort: `key` ascending, `-key` descending; ties keep one hidden order in both directions", async () => {
    const ascending = await listAll("/v1/invoke", { sort: "created_at" });
    const descending = await listAll("/v1/invoke", { sort: "-created_at" });
    expect(isSorted(createdAts(ascending))).toBe(true);
    expect(createdAts(descending)).toEqual(createdAts(ascending).reverse());
    expect(ids(descending).sort()).toEqual(ids(allRuns).sort());
    // Each tie group is served in the same order whichever way the list is sorted, so -key is not the reverse.
    const groupOrder = (items: InkitRun[]) => tieGroups(items, (run) => run.created_at).map(ids);
    expect(groupOrder(descending)).toEqual(groupOrder(ascending).reverse());
    expect(ids(descending)).not.toEqual(ids(ascending).reverse());
    // sim assumption: order -1 means ascending (the docs only show 1, on newest-first lists).
    const [asc, desc] = await Promise.all([runs({ sort: "created_at" }), runs({ sort: "-created_at" })]);
    expect(asc.metadata.sort).toEqual({ key: "created_at", order: -1 });
    expect(desc.metadata.sort).toEqual({ key: "created_at", order: 1 });

    const byName = await listAll<InkitBatch>("/v1/batch", { sort: "name" });
    const byNameDesc = await listAll<InkitBatch>("/v1/batch", { sort: "-name" });
    const names = byName.flatMap((batch) => (batch.name === null ? [] : [batch.name]));
    expect(names.length).toBeGreaterThan(1);
    expect(names).toEqual([...names].sort());
    // sim assumption: null names last ascending (NULLS LAST), so first descending.
    expect(byName.map((batch) => batch.name)).toEqual(byNameDesc.map((batch) => batch.name).reverse());
    // Paging through a sort at any page size gives the same order (hidden ties do not depend on the window).
    expect(ids(await listAll("/v1/invoke", { sort: "-created_at", page_size: 37 }))).toEqual(ids(descending));
  });

  it("sort with an unknown key is a 400 (sim assumption)", async () => {
    expect((await request("/v1/invoke", { sort: "-colour" })).status).toBe(400);
  });

  it("search: case-insensitive substring of id, name, description or flow_name (runs) / id or name (batches)", async () => {
    const needle = "InVoIcE";
    const matches = (texts: (string | null)[]) => texts.some((t) => t?.toLowerCase().includes(needle.toLowerCase()));
    const expected = allRuns.filter((r) => matches([r.id, r.name, r.description, r.flow_name]));
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(allRuns.length);
    const found = await runs({ search: needle, page_size: CAP });
    expect(found.metadata.pagination.total_count).toBe(expected.length);
    expect(ids(await listAll("/v1/invoke", { search: needle })).sort()).toEqual(ids(expected).sort());

    const target = at(allRuns, 1234);
    expect(ids((await runs({ search: target.id.toUpperCase() })).items)).toEqual([target.id]);
    const batch = at(allWorkflowBatches, 42);
    expect(ids((await workflowBatches({ search: batch.id })).items)).toEqual([batch.id]);
  });

  it("destination_name: only items with that destination", async () => {
    const expected = allRuns.filter((run) => "magic_link" in run.destinations);
    expect(expected.length).toBeGreaterThan(0);
    const found = await listAll("/v1/invoke", { destination_name: "magic_link" });
    expect(ids(found).sort()).toEqual(ids(expected).sort());

    const expectedBatches = allDocumentBatches.filter((batch) => "sepire" in batch.destinations);
    expect(expectedBatches.length).toBeGreaterThan(0);
    const batches = await listAll<InkitBatch>("/v1/batch", { destination_name: "sepire" });
    expect(ids(batches).sort()).toEqual(ids(expectedBatches).sort());
  });

  it("destination_status: runs by destination_status, batches by any destination's status (case-insensitive)", async () => {
    const expected = allRuns.filter((run) => run.destination_status === "Failed");
    expect(expected.length).toBeGreaterThan(0);
    const found = await listAll("/v1/invoke", { destination_status: "failed" });
    expect(ids(found).sort()).toEqual(ids(expected).sort());

    const expectedBatches = allWorkflowBatches.filter((batch) =>
      Object.values(batch.destinations).some((d) => d.status === "in_progress"),
    );
    expect(expectedBatches.length).toBeGreaterThan(0);
    const batches = await listAll<InkitBatch>("/v1/invoke/batch", { destination_status: "IN_PROGRESS" });
    expect(ids(batches).sort()).toEqual(ids(expectedBatches).sort());
  });

  it("data_id: a comma-delimited list of run ids", async () => {
    const wanted = [at(allRuns, 5), at(allRuns, 1500), at(allRuns, 2999)].map((run) => run.id);
    const found = await runs({ data_id: wanted.join(",") });
    expect(ids(found.items).sort()).toEqual([...wanted].sort());
    expect(found.metadata.pagination).toMatchObject({
      total_count: 3,
      page_count: 1,
      next_page: null,
      prev_page: null,
    });
    const none = await runs({ data_id: "rend_doesNotExist0000000000" });
    expect(none.items).toEqual([]);
    expect(none.metadata.pagination).toMatchObject({ total_count: 0, page_count: 0, next_page: null, prev_page: null });
  });

  it("pagination arithmetic: page_count, next_page, prev_page (incl. the docs' page-1 quirk), past the end", async () => {
    const size = 7;
    const pages = Math.ceil(3000 / size); // 429
    const first = await runs({ page_size: size });
    // Seed 000: page 1 of 108 reports prev_page 108. Reproduced: page 1 of N > 1 reports prev_page N.
    expect(first.metadata.pagination).toEqual({
      current_page: 1,
      next_page: 2,
      page_count: pages,
      page_size: size,
      prev_page: pages,
      total_count: 3000,
    });
    expect((await runs()).metadata.pagination.prev_page).toBe(120);
    const second = await runs({ page: 2, page_size: size });
    expect(second.metadata.pagination).toMatchObject({ current_page: 2, next_page: 3, prev_page: 1 });
    expect(ids(second.items)).toEqual(ids(allRuns).slice(size, 2 * size));
    const last = await runs({ page: pages, page_size: size });
    expect(last.items).toHaveLength(3000 - (pages - 1) * size);
    expect(last.metadata.pagination).toMatchObject({ current_page: pages, next_page: null, prev_page: pages - 1 });
    const beyond = await runs({ page: pages + 5, page_size: size });
    expect(beyond.items).toEqual([]);
    expect(beyond.metadata.pagination).toEqual({
      current_page: pages + 5,
      next_page: null,
      page_count: pages,
      page_size: size,
      prev_page: pages + 4,
      total_count: 3000,
    });
    // Page 1 of 1 reports prev_page null, as seeds 001 and 004 do.
    const single = await workflowBatches({ page_size: 50 }, OTHER);
    expect(single.metadata.pagination).toEqual({
      current_page: 1,
      next_page: null,
      page_count: 1,
      page_size: 50,
      prev_page: null,
      total_count: 10,
    });
  });

  it("a non-integer or < 1 page / page_size is a 400 (sim assumption)", async () => {
    const invalid: Query[] = [{ page: 0 }, { page_size: 0 }, { page: "x" }, { page_size: 2.5 }, { page: -1 }];
    for (const query of invalid) {
      expect((await request("/v1/invoke", query)).status, JSON.stringify(query)).toBe(400);
    }
  });
});

describe("auth and tenants", () => {
  it("401 without a token and with a wrong one, on every route", async () => {
    for (const path of ["/v1/invoke", "/v1/invoke/batch", "/v1/batch", `/v1/batch/${at(allDocumentBatches, 0).id}`]) {
      for (const token of [null, "sim_inkit_wrong_token", `${DEMO}x`]) {
        const res = await request(path, {}, { token });
        expect(res.status, `${path} ${token}`).toBe(401);
        expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
      }
    }
  });

  it("the other tenant's token sees its own, different data; never the demo tenant's", async () => {
    const otherRuns = await runs({ page_size: 100 }, OTHER);
    expect(otherRuns.metadata.pagination.total_count).toBe(40);
    const demoIds = new Set(ids(allRuns));
    expect(otherRuns.items.filter((run) => demoIds.has(run.id))).toEqual([]);
    expect((await workflowBatches({}, OTHER)).metadata.pagination.total_count).toBe(10);
    expect((await documentBatches({}, OTHER)).metadata.pagination.total_count).toBe(10);
    // A demo id is unknown to the other tenant.
    expect((await request(`/v1/batch/${at(allDocumentBatches, 0).id}`, {}, { token: OTHER })).status).toBe(404);
    expect((await runs({ data_id: at(allRuns, 0).id }, OTHER)).items).toEqual([]);
  });

  it("404 for an unknown batch id, or a batch of the other kind", async () => {
    const unknown = await request("/v1/batch/rb_doesNotExist00000000000");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "not_found" } });
    expect((await request("/v1/invoke/batch/fb_doesNotExist00000000000")).status).toBe(404);
    expect((await request(`/v1/invoke/batch/${at(allDocumentBatches, 0).id}`)).status).toBe(404);
    expect((await request(`/v1/batch/${at(allWorkflowBatches, 0).id}`)).status).toBe(404);
  });
});

describe("data volume and realism", () => {
  it("3,000 runs, 200 workflow batches, 200 document batches, all ids distinct", () => {
    expect(allRuns).toHaveLength(3000);
    expect(allWorkflowBatches).toHaveLength(200);
    expect(allDocumentBatches).toHaveLength(200);
    const everyId = [...ids(allRuns), ...ids(allWorkflowBatches), ...ids(allDocumentBatches)];
    expect(new Set(everyId).size).toBe(everyId.length);
  });

  it("id formats: rend_, fb_, rb_, flow_, tmpl_, doc_ (as in the docs), flows_batch_id pointing at a real fb_", () => {
    // The docs' ids themselves pass these patterns.
    for (const run of inkitRunsPage.items) expect(run.id).toMatch(ID("rend"));
    for (const batch of inkitDocumentBatchesPage.items) expect(batch.id).toMatch(ID("rb"));
    for (const batch of inkitWorkflowBatchesPage.items) expect(batch.id).toMatch(ID("fb"));

    const workflowBatchIds = new Set(ids(allWorkflowBatches));
    const bad = (prefix: string, value: string | null | undefined) => !ID(prefix).test(value ?? "");
    const offenders = allRuns.filter(
      (run) =>
        bad("rend", run.id) ||
        (run.flow_id !== null && bad("flow", run.flow_id)) ||
        (run.template_id !== null && bad("tmpl", run.template_id)) ||
        bad("doc", run.destinations.inkit_storage?.document_id) ||
        (run.destinations.sepire !== undefined && bad("mp", run.destinations.sepire?.mail_piece_id)) ||
        (run.flows_batch_id !== null && !workflowBatchIds.has(run.flows_batch_id)),
    );
    expect(ids(offenders)).toEqual([]);
    expect(allRuns.filter((run) => run.flows_batch_id !== null).length).toBeGreaterThan(0);
    expect(ids(allWorkflowBatches).filter((id) => bad("fb", id))).toEqual([]);
    expect(ids(allDocumentBatches).filter((id) => bad("rb", id))).toEqual([]);
  });

  it("every documented destination type appears in the runs; runs from flows and from templates", () => {
    const types = new Set(allRuns.flatMap((run) => Object.keys(run.destinations)));
    expect([...types].sort()).toEqual(Object.keys(RUN_DESTINATION_FIELDS).sort());
    expect(allRuns.filter((run) => run.flow_id !== null).length).toBeGreaterThan(100);
    expect(allRuns.filter((run) => run.template_id !== null).length).toBeGreaterThan(100);
  });

  it("a mix of statuses, including the docs' Completed run with a Failed destination_status", () => {
    const count = (values: string[]) =>
      values.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>());
    const runStatuses = count(allRuns.map((run) => run.status));
    expect(runStatuses.size).toBeGreaterThanOrEqual(3);
    for (const status of ["Completed", "Failed", "In Progress"]) expect(runStatuses.get(status)).toBeGreaterThan(0);
    expect(allRuns.some((run) => run.status === "Completed" && run.destination_status === "Failed")).toBe(true);
    const batchStatuses = count([...allWorkflowBatches, ...allDocumentBatches].map((batch) => batch.status));
    for (const status of ["Completed", "In Progress"]) expect(batchStatuses.get(status)).toBeGreaterThan(0);
    expect(batchStatuses.size).toBeGreaterThanOrEqual(3);
  });

  it("created_at values are formatted like the docs (six fractional digits)", () => {
    for (const list of [allRuns, allWorkflowBatches, allDocumentBatches]) {
      expect(createdAts(list).filter((value) => !INKIT_TIMESTAMP.test(value))).toEqual([]);
    }
    expect(at(inkitRunsPage.items, 0).created_at).toMatch(INKIT_TIMESTAMP);
  });

  it("determinism: after POST /__admin/reset the same request returns byte-identical JSON", async () => {
    const read = async (path: string) => (await allPagesText(path, { sort: "-created_at" })).join("\n");
    const before = await Promise.all(["/v1/invoke", "/v1/invoke/batch", "/v1/batch"].map(read));
    await mutate.insert({ kind: "run", count: 2 });
    await mutate.insert({ kind: "document_batch", count: 1 });
    await mutate.setStatus({ id: at(allWorkflowBatches, 3).id, status: "Failed" });
    const changed = await Promise.all(["/v1/invoke", "/v1/invoke/batch", "/v1/batch"].map(read));
    for (const [i, body] of changed.entries()) expect(body).not.toBe(before[i]);
    await inkitSim.reset();
    const after = await Promise.all(["/v1/invoke", "/v1/invoke/batch", "/v1/batch"].map(read));
    expect(after).toEqual(before);
  });
});

describe("admin API", () => {
  it("insert puts new runs at the head: first in the default and creation orders, newer than everything", async () => {
    const newest = [...allRuns.map((run) => run.created_at)].sort().at(-1) ?? "";
    const inserted = (await mutate.insert<InkitRun>({ kind: "run", count: 2, tie_head: false })).items;
    expect(inserted).toHaveLength(2);
    const [second, first] = [at(inserted, 1), at(inserted, 0)];
    // The two may tie with each other (inserted ties), but without tie_head both are newer than everything.
    expect(first.created_at >= second.created_at && second.created_at > newest).toBe(true);
    expect(first.status).toBe("In Progress");
    expect(shapeOf({ ...inkitRunsPage, items: inserted }, RUN_RULES)).toEqual(shapeOf(inkitRunsPage, RUN_RULES));
    const byDefault = await runs();
    expect(ids(byDefault.items).slice(0, 2)).toEqual([first.id, second.id]);
    expect(byDefault.metadata.pagination.total_count).toBe(3002);
    expect(ids((await runs({ sort: "-created_at" })).items).slice(0, 2)).toEqual([first.id, second.id]);
  });

  it("insert puts new batches first in their own listing only", async () => {
    const inserted = (
      await mutate.insert<InkitBatch>({ kind: "workflow_batch", count: 1, status: "Completed", tie_head: false })
    ).items;
    const batch = at(inserted, 0);
    expect(batch.id).toMatch(ID("fb"));
    expect(Object.keys(batch.destinations).length).toBeGreaterThan(0);
    const page = await workflowBatches();
    expect(at(page.items, 0)).toEqual(batch);
    expect(page.metadata.pagination.total_count).toBe(201);
    expect((await documentBatches()).metadata.pagination.total_count).toBe(200);
  });

  it("status change on a run shows in the listing and moves it to the top of the default (updated_at) sort", async () => {
    const target = allRuns.find(
      (run, i) => i > 1000 && run.status === "Completed" && run.destination_status === "Completed",
    );
    if (target === undefined) throw new Error("no settled run to change");
    await mutate.setStatus({ id: target.id, status: "Failed", destination_status: "Failed" });
    const [changed] = (await runs({ data_id: target.id })).items;
    expect(changed).toMatchObject({ id: target.id, status: "Failed", destination_status: "Failed" });
    for (const piece of Object.values(changed?.destinations ?? {})) expect(piece?.status).toBe("Failed");
    expect(at((await runs()).items, 0).id).toBe(target.id);
  });

  it("status change on a batch settles its in-progress counts", async () => {
    const target = allWorkflowBatches.find((b) => Object.values(b.destinations).some((d) => d.in_progress > 0));
    if (target === undefined) throw new Error("no in-progress batch");
    await mutate.setStatus({ id: target.id, status: "Completed" });
    const res = await request(`/v1/invoke/batch/${target.id}`);
    const changed = (await res.json()) as InkitBatch;
    expect(changed.status).toBe("Completed");
    for (const [type, before] of Object.entries(target.destinations)) {
      expect(changed.destinations[type]).toMatchObject({
        in_progress: 0,
        completed: before.completed + before.in_progress,
      });
    }
  });

  it("counters count every request per route pattern (401s and 404s too, not unknown routes); clear and reset zero them", async () => {
    await inkitSim.clearCounters();
    await request("/v1/invoke");
    await request("/v1/invoke", {}, { token: null });
    await request("/v1/batch/rb_doesNotExist00000000000");
    await request("/v1/nope");
    // Only the one successful list request served items: the default page_size of 25.
    expect(await inkitSim.counters()).toEqual({
      total: 3,
      items: 25,
      routes: { "GET /v1/invoke": 2, "GET /v1/batch/:batchId": 1 },
    });
    expect(await inkitSim.clearCounters()).toEqual({ total: 0, items: 0, routes: {} });
    await request("/v1/invoke/batch");
    expect((await inkitSim.counters()).routes).toEqual({ "GET /v1/invoke/batch": 1 });
    await inkitSim.reset();
    expect(await inkitSim.counters()).toEqual({ total: 0, items: 0, routes: {} });
  });

  it("the request log keeps each counted request's exact path and query, never a header; clear and reset empty it", async () => {
    await inkitSim.clearCounters();
    await request("/v1/invoke?page=2&page_size=3");
    await request("/v1/invoke", {}, { token: null });
    await request("/v1/nope");
    expect(await inkitSim.requests()).toEqual(["GET /v1/invoke?page=2&page_size=3", "GET /v1/invoke"]);
    await inkitSim.clearCounters();
    expect(await inkitSim.requests()).toEqual([]);
    await request("/v1/invoke/batch");
    await inkitSim.reset();
    expect(await inkitSim.requests()).toEqual([]);
  });
});

describe("faults", () => {
  it("latency: the response is held while the injected latency lasts, and clearing faults releases it", async () => {
    const { id } = await inkitSim.fault({ route: "/v1/invoke", latency_ms: 60_000, times: 1 });
    let answered = false;
    const pending = request("/v1/invoke").then((res) => {
      answered = true;
      return res;
    });
    // Order, not time: once the simulator counts the request as faulted, it is still unanswered.
    await expect.poll(async () => (await inkitSim.faults()).faults.find((f) => f.id === id)?.hits).toBe(1);
    // Several round trips later (an unheld answer would have arrived by now), still unanswered.
    for (let i = 0; i < 5; i++) await inkitSim.getSettings();
    expect(answered).toBe(false);
    await inkitSim.clearFaults();
    expect((await pending).status).toBe(200);
  });

  it("5xx: the injected status with Inkit's error body, before auth, only for matching routes and `times`", async () => {
    await inkitSim.fault({ route: "/v1/batch", status: 503, times: 2 });
    expect((await request("/v1/invoke")).status).toBe(200);
    const failed = await request("/v1/batch", {}, { token: null });
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ error: { code: "service_unavailable" } });
    expect((await request("/v1/batch")).status).toBe(503);
    expect((await request("/v1/batch")).status).toBe(200);
  });

  it("429 with Retry-After", async () => {
    await inkitSim.fault({ route: "/v1/invoke", retry_after: 7 });
    const res = await request("/v1/invoke");
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBe("7");
    expect(await res.json()).toMatchObject({ error: { code: "rate_limited" } });
  });

  it("malformed: status 200 and a JSON content type, but the body does not parse", async () => {
    const intact = await (await request("/v1/invoke")).text();
    await inkitSim.fault({ route: "/v1/invoke", malformed: true });
    const res = await request("/v1/invoke");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await res.text();
    expect(intact.startsWith(body)).toBe(true);
    expect(body.length).toBeLessThan(intact.length);
    expect(() => JSON.parse(body)).toThrow();
  });

  it("hang: the request never answers (the client gives up); clearing faults restores service", async () => {
    await inkitSim.fault({ route: "/v1/invoke", hang: true });
    await expect(request("/v1/invoke", {}, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: "TimeoutError",
    });
    await inkitSim.clearFaults();
    expect((await request("/v1/invoke", {}, { signal: AbortSignal.timeout(2000) })).status).toBe(200);
  });

  it("page_size_cap: at most N items, and the metadata reports the clamped page size", async () => {
    await inkitSim.fault({ route: "/v1/invoke", page_size_cap: 10 });
    const capped = await runs({ page_size: 50 });
    expect(capped.items).toHaveLength(10);
    expect(capped.metadata.pagination).toMatchObject({
      page_size: 10,
      page_count: 300,
      next_page: 2,
      total_count: 3000,
    });
    expect(ids(capped.items)).toEqual(ids(allRuns).slice(0, 10));
    expect((await runs({ page_size: 5 })).items).toHaveLength(5);
    expect((await workflowBatches({ page_size: 50 })).items).toHaveLength(10); // "/v1/invoke" matches /v1/invoke/batch
    expect((await documentBatches({ page_size: 50 })).items).toHaveLength(50);
  });
});

describe("ties (the least convenient order the docs allow: they say nothing about ties)", () => {
  it("every list has exact created_at ties: >= 5% of items in groups of 2-5; runs have one group of 51-99", async () => {
    for (const [name, list] of Object.entries({ allRuns, allWorkflowBatches, allDocumentBatches })) {
      const { small } = tieStats(list);
      expect(small / list.length, name).toBeGreaterThanOrEqual(0.05);
    }
    // More than a page of 50 and less than the cap of 100: no single default-sized page holds it.
    const big = tieStats(allRuns).groups.filter((group) => group.length > 50);
    expect(big.map((group) => group.length)).toHaveLength(1);
    expect(at(big, 0).length).toBeLessThan(CAP);
    // The other tenant's small lists have ties too.
    for (const path of ["/v1/invoke", "/v1/invoke/batch", "/v1/batch"]) {
      expect(tieStats(await listAll(path, {}, OTHER)).groups.length, path).toBeGreaterThan(0);
    }
  });

  it("hidden (default): ties come in a fixed order unrelated to ids, for every sort key", async () => {
    const creation = await listAll("/v1/invoke", { sort: "-created_at" });
    const groups = tieStats(creation).groups.map(ids);
    // Not id order in either direction: neither for the big group nor for every small one.
    const big = groups.find((group) => group.length > 50) ?? [];
    expect(unordered(big)).toBe(true);
    expect(groups.filter((group) => group.length >= 3 && unordered(group)).length).toBeGreaterThan(1);
    // Also among items tied on status and name (big groups), in either direction.
    for (const sort of ["status", "-status", "name", "-name"]) {
      const sorted = await listAll<InkitBatch>("/v1/invoke/batch", { sort });
      const key = sort.replace("-", "") as "status" | "name";
      const tied = tieGroups(sorted, (batch) => String(batch[key])).filter((group) => group.length > 2);
      expect(tied.length, sort).toBeGreaterThan(0);
      expect(
        tied.some((group) => unordered(ids(group))),
        sort,
      ).toBe(true);
    }
    // Fixed: the same order at another page size.
    expect(ids(await listAll("/v1/invoke", { sort: "-created_at", page_size: 60 }))).toEqual(ids(creation));
  });

  it("window: a tie group's order depends on (page, page_size), but it keeps its offset span", async () => {
    const hidden = await listAll("/v1/invoke", { sort: "-created_at" });
    const big = tieStats(hidden).groups.find((group) => group.length > 50) ?? [];
    const start = hidden.findIndex((run) => run.id === big[0]?.id);
    const end = start + big.length;
    expect(createdAts(hidden.slice(start, end))).toEqual(createdAts(big));

    await mutate.settings({ tie_order: "window", page_size_cap: null });
    // Two windows that both hold the whole group: the same items at the same offsets, in different orders.
    const [a, b] = await Promise.all([
      runs({ sort: "-created_at", page_size: end }),
      runs({ sort: "-created_at", page_size: end + 1 }),
    ]);
    const inA = ids(a.items.slice(start, end));
    const inB = ids(b.items.slice(start, end));
    expect([...inA].sort()).toEqual(ids(big).sort());
    expect([...inB].sort()).toEqual(ids(big).sort());
    expect(inA).not.toEqual(inB);
    // Only the order within tie groups varies: every offset keeps its created_at in any window.
    const paged = await listAll("/v1/invoke", { sort: "-created_at", page_size: 50 });
    expect(createdAts(paged)).toEqual(createdAts(hidden));
    expect(createdAts(a.items)).toEqual(createdAts(hidden.slice(0, end)));
    // Which is why walking page by page can skip some tied items and repeat others.
    expect(ids(paged).sort()).not.toEqual(ids(hidden).sort());
    expect(new Set(ids(paged)).size).toBeLessThan(paged.length);
  });

  it("cross-provider instants: some runs sit on whole milliseconds that 8x8 instances share (see the truth tests)", () => {
    const wholeMs = allRuns.filter((run) => run.created_at.endsWith("000Z"));
    expect(wholeMs.length).toBeGreaterThanOrEqual(5);
  });

  it("insert: some inserted items tie with each other; tie_head makes the first tie with the newest item", async () => {
    const newest = [...createdAts(allRuns)].sort().at(-1) ?? "";
    const burst = (await mutate.insert<InkitRun>({ kind: "run", count: 20, tie_head: true })).items;
    expect(at(burst, burst.length - 1).created_at).toBe(newest);
    expect(createdAts(burst)).toEqual([...createdAts(burst)].sort().reverse());
    expect(tieStats(burst).groups.length).toBeGreaterThan(0);
    // The listing serves the head tie group whole, in its hidden order, at the same place in every listing.
    const head = (await runs({ sort: "-created_at", page_size: 40 })).items;
    const tiedWithNewest = head.filter((run) => run.created_at === newest);
    expect(tiedWithNewest.length).toBeGreaterThanOrEqual(2);
    expect(ids(tiedWithNewest)).toContain(at(burst, burst.length - 1).id);
  });
});

describe("page-size cap and settings", () => {
  it("Inkit serves at most 100 items per page by default and reports the size it served", async () => {
    const capped = await runs({ page_size: 500, sort: "-created_at" });
    expect(capped.items).toHaveLength(CAP);
    expect(capped.metadata.pagination).toMatchObject({
      page_size: CAP,
      page_count: 30,
      next_page: 2,
      total_count: 3000,
    });
    const second = await runs({ page: 2, page_size: 500, sort: "-created_at" });
    expect(second.metadata.pagination).toMatchObject({ current_page: 2, page_size: CAP, next_page: 3 });
    expect(createdAts(second.items)[0] ?? "").not.toBe("");
    expect((await runs({ page_size: CAP })).items).toHaveLength(CAP);
    expect((await runs({ page_size: 99 })).metadata.pagination.page_size).toBe(99);
  });

  it("settings: GET shows the defaults, POST changes them, the cap combines with the fault (lowest wins)", async () => {
    expect(await inkitSim.getSettings()).toEqual({ tie_order: "hidden", page_size_cap: CAP });
    expect(await mutate.settings({ page_size_cap: null })).toEqual({ tie_order: "hidden", page_size_cap: null });
    expect((await runs({ page_size: 500 })).items).toHaveLength(500);
    await mutate.settings({ page_size_cap: 40 });
    expect(await inkitSim.getSettings()).toEqual({ tie_order: "hidden", page_size_cap: 40 });
    await inkitSim.fault({ route: "/v1/invoke", page_size_cap: 60 });
    expect((await runs({ page_size: 500 })).metadata.pagination.page_size).toBe(40);
    await inkitSim.fault({ route: "/v1/invoke", page_size_cap: 15 });
    expect((await runs({ page_size: 500 })).metadata.pagination.page_size).toBe(15);
  });

  it("settings are strict (unknown key or value: 400) and reset restores the defaults", async () => {
    const post = (body: unknown) =>
      fetch(`${BASE}/__admin/settings`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const body of [{ colour: 1 }, { tie_order: "random" }, { page_size_cap: 0 }, { tieOrder: "window" }]) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_body" } });
    }
    expect(await inkitSim.getSettings()).toEqual({ tie_order: "hidden", page_size_cap: CAP });
    await mutate.settings({ tie_order: "window", page_size_cap: 7 });
    await inkitSim.reset();
    expect(await inkitSim.getSettings()).toEqual({ tie_order: "hidden", page_size_cap: CAP });
    expect((await runs({ page_size: 500 })).items).toHaveLength(CAP);
  });
});
