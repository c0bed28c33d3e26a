import type { z } from "@hono/zod-openapi";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateEightByEightDataset } from "../../simulator/data/eightbyeight";
import { generateInkitDataset } from "../../simulator/data/inkit";
import { precompiled } from "../../src/providers/validate";
import { type UpstreamBodyName, upstreamBodySchemas } from "../../src/providers/validate/targets";
import * as schemasafe from "../../src/providers/validate/upstream.gen.js";
import * as seeds from "../fixtures/seeds";
import { timestampLike } from "./support/timestamps";

// The generated validators (npm run validators) against their source of truth, the zod schemas: on the vendors'
// documented examples, on the simulators' data, and on bodies mutated from them (keys dropped or added, values of
// every wrong type, edge numbers, near-miss timestamps, whole subtrees replaced by arbitrary JSON), each candidate
// must accept exactly the bodies zod accepts. Bodies go through JSON text first, as they do from the wire.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const candidates = { schemasafe } as const;

// Simulator data: every item of both tenants (runs, batches, instances) as served.
const inkit = Object.values(generateInkitDataset());
const eightByEight = Object.values(generateEightByEightDataset()).flatMap((t) =>
  [...t.definitions.values()].flatMap((d) => d.instances.map((s) => s.item)),
);
const pools = {
  runs: [...seeds.inkitRunsPage.items, ...inkit.flatMap((t) => t.runs.map((s) => s.item))],
  batches: [
    ...seeds.inkitWorkflowBatchesPage.items,
    ...seeds.inkitDocumentBatchesPage.items,
    seeds.inkitDocumentBatch,
    ...inkit.flatMap((t) => [...t.workflowBatches, ...t.documentBatches].map((s) => s.item)),
  ],
  instances: [...seeds.eightByEightInstances, ...eightByEight],
} as unknown as Record<"runs" | "batches" | "instances", Json[]>;

const metadata = seeds.inkitRunsPage.metadata as unknown as Json;
const items = (pool: Json[]) => fc.array(fc.constantFrom(...pool), { minLength: 0, maxLength: 3 });
const validBodies: Record<UpstreamBodyName, fc.Arbitrary<Json>> = {
  inkitRunList: items(pools.runs).map((xs) => ({ items: xs, metadata })),
  inkitBatchList: items(pools.batches).map((xs) => ({ items: xs, metadata })),
  inkitBatch: fc.constantFrom(...pools.batches),
  eightByEightList: items(pools.instances),
};

// Number tokens JSON.stringify cannot write but the wire can: JSON.parse turns them into ±Infinity, -0, 100, 1.
const RAW = { "\u0000inf": "1e400", "\u0000-inf": "-1e400", "\u0000-0": "-0", "\u0000e2": "1e2", "\u0000one": "1.0" };
const special = fc.constantFrom(...Object.keys(RAW));
const wrongValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, 1, -1, 1.5, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), "", "x", [], {}, [{}]),
  fc.constantFrom<Json>(
    { status: "x" },
    { status: null },
    { status: 1 },
    { count: 1, completed: 0, failed: 0, in_progress: 0 },
  ),
  special,
  timestampLike,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);
const newKey = fc.oneof(
  fc.constantFrom("status", "id", "created_at", "items", "metadata", "data", "box", "amazon_s3", "inkit_storage"),
  fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", "x_new_field", ""),
  fc.string({ maxLength: 6 }),
);

/** Every path into a JSON value, the root included. */
function paths(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) out.push(...paths(x, [...at, i]));
  } else if (v !== null && typeof v === "object") {
    for (const k of Object.keys(v)) out.push(...paths(v[k] as Json, [...at, k]));
  }
  return out;
}

type Mutation = { path: number; kind: "drop" | "set" | "add"; value: Json; key: string };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  path: fc.nat(),
  kind: fc.constantFrom("drop", "set", "set", "add"),
  value: wrongValue,
  key: newKey,
});

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === "object" && !Array.isArray(v);
const at = (root: Json, path: (string | number)[]) =>
  path.reduce<Json>((v, k) => (v as Record<string, Json>)[k] as Json, root);
// defineProperty, as JSON.parse does: assigning to "__proto__" would set the prototype instead of a key.
const put = (o: object, key: string | number, value: Json) =>
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });

function mutate(body: Json, ms: Mutation[]): Json {
  let root = structuredClone(body);
  for (const m of ms) {
    // Copies: fast-check reuses its values while shrinking, so they must never be changed in place.
    const value = structuredClone(m.value);
    const all = paths(root);
    const objects = all.filter((p) => isObject(at(root, p)));
    if (m.kind === "add" && objects.length > 0) {
      put(at(root, objects[m.path % objects.length] as string[]) as object, m.key, value);
      continue;
    }
    const path = all[m.path % all.length] as (string | number)[];
    const last = path.at(-1);
    const parent = at(root, path.slice(0, -1)) as Record<string, Json>;
    if (last === undefined) root = value;
    else if (m.kind === "drop" && Array.isArray(parent)) parent.splice(last as number, 1);
    else if (m.kind === "drop") delete parent[last];
    else put(parent, last, value);
  }
  return root;
}

/** The body as the upstream client sees it: JSON text through JSON.parse. */
function wire(body: Json): unknown {
  let text = JSON.stringify(body);
  for (const [marker, token] of Object.entries(RAW)) text = text.replaceAll(JSON.stringify(marker), token);
  return JSON.parse(text);
}

const names = Object.keys(upstreamBodySchemas) as UpstreamBodyName[];
/** What one test's bodies covered: how many, how many zod accepted, how many had an own "__proto__" key. */
type Tally = { cases: number; accepted: number; protoKeys: number };
const newTally = (): Tally => ({ cases: 0, accepted: 0, protoKeys: 0 });

/** Whether any object in `v` has an own "__proto__" key (JSON.parse makes one; object literals do not). */
const hasProtoKey = (v: unknown): boolean =>
  v !== null && typeof v === "object" && (Object.hasOwn(v, "__proto__") || Object.values(v).some(hasProtoKey));

/** Deep equality of JSON values by own keys, in any key order (vitest's equality reads a "constructor" key as a type). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const rb = b as Record<string, unknown>;
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], rb[k]))
  );
}

/**
 * A candidate that accepts a body must do so exactly when zod does, and zod's copy must equal the body, since the
 * client returns the body itself. A candidate may reject a body zod accepts only for an own "__proto__" key (it
 * leaves those to zod, whose copy differs there). Through `precompiled`, the answer is always zod's.
 */
function agree(tally: Tally, name: UpstreamBodyName, body: unknown) {
  const zod = (upstreamBodySchemas[name] as z.ZodType).safeParse(body);
  const proto = hasProtoKey(body);
  tally.cases++;
  if (zod.success) tally.accepted++;
  if (proto) tally.protoKeys++;
  for (const [candidate, module] of Object.entries(candidates)) {
    const accepted = module[name](body);
    const what = `${candidate} on ${name}: ${JSON.stringify(body)?.slice(0, 400)}`;
    if (accepted || !proto) expect(accepted, what).toBe(zod.success);
    if (accepted) expect(sameJson(zod.data, body), `zod's copy equals the body: ${what}`).toBe(true);
  }
  const fast = precompiled(upstreamBodySchemas[name]).safeParse(body);
  expect(fast.success).toBe(zod.success);
  if (!zod.success) expect(fast.error?.issues[0]?.path).toEqual(zod.error.issues[0]?.path);
}

describe("generated upstream validators accept exactly what the zod schemas accept (no simulator)", () => {
  // Each test checks what its own bodies covered, so any one of them can run alone (-t) and still mean something.
  it("every documented example and every simulator item", () => {
    const tally = newTally();
    for (const run of pools.runs) agree(tally, "inkitRunList", wire({ items: [run], metadata }));
    for (const batch of pools.batches) {
      agree(tally, "inkitBatch", wire(batch));
      agree(tally, "inkitBatchList", wire({ items: [batch], metadata }));
    }
    for (const instance of pools.instances) agree(tally, "eightByEightList", wire([instance]));
    expect(tally.cases).toBeGreaterThan(1_000);
    expect(tally.accepted).toBe(tally.cases);
  });

  // Mutations mostly break a body, but a fair share keep it valid (an added unknown key, a null where allowed).
  it.each(names)("%s: bodies mutated one to four times", (name) => {
    const tally = newTally();
    fc.assert(
      fc.property(validBodies[name], fc.array(mutation, { minLength: 1, maxLength: 4 }), (body, ms) => {
        agree(tally, name, wire(mutate(body, ms)));
      }),
      { numRuns: 4_000, seed: 20261128 },
    );
    expect(tally.cases).toBe(4_000);
    expect(tally.accepted).toBeGreaterThan(400);
    expect(tally.cases - tally.accepted).toBeGreaterThan(2_900);
  });

  it.each(names)('%s: bodies given an own "__proto__" key somewhere, and mutated up to twice more', (name) => {
    const tally = newTally();
    const proto = mutation.map((m): Mutation => ({ ...m, kind: "add", key: "__proto__" }));
    fc.assert(
      fc.property(validBodies[name], proto, fc.array(mutation, { maxLength: 2 }), (body, p, ms) => {
        agree(tally, name, wire(mutate(body, [p, ...ms])));
      }),
      { numRuns: 1_000, seed: 20261130 },
    );
    expect(tally.cases).toBe(1_000);
    expect(tally.accepted).toBeGreaterThan(400);
    expect(tally.protoKeys).toBeGreaterThan(600);
  });

  it.each(names)("%s: arbitrary JSON", (name) => {
    const tally = newTally();
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (body) => agree(tally, name, wire(body as Json))),
      { numRuns: 500, seed: 20261129 },
    );
    expect(tally.cases).toBe(500);
    expect(tally.cases - tally.accepted).toBeGreaterThan(450);
  });
});

describe("precompiled schemas", () => {
  it("return an accepted body as parsed, and describe a rejected one by zod's first issue", () => {
    const schema = precompiled(upstreamBodySchemas.inkitRunList);
    const body = wire({ items: [pools.runs[0] as Json], metadata }) as { items: Record<string, unknown>[] };
    const ok = schema.safeParse(body);
    expect(ok.success && ok.data).toBe(body);
    (body.items[0] as Record<string, unknown>).created_at = "2023-02-29T00:00:00Z";
    const bad = schema.safeParse(body);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["items", 0, "created_at"]);
  });
});
