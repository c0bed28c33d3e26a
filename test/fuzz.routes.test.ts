import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../simulator/credentials";
import { resetCircuitBreakers } from "../src/http/circuit-breaker";
import { TEST_API_KEY, TEST_API_KEY_2 } from "./setup/bindings";
import { type AppRequest, expectValidProblem, request } from "./support/hardening";
import { resetSimulators } from "./support/simulator";
import type { PageBody } from "./support/walk";
import { call } from "./support/worker";

// Property-based fuzzing of every GET operation in the live OpenAPI document: random path segments, query
// parameters (known and unknown, repeated, unicode, huge and negative numbers, real and mutated cursors) and
// headers. Invariants: never a 5xx; every non-2xx is a valid problem document; every 2xx is well-formed JSON.

interface Parameter {
  in: "path" | "query" | "header";
  name: string;
  schema?: { enum?: string[]; example?: unknown };
  example?: unknown;
}
interface Operation {
  path: string;
  parameters: Parameter[];
}

/**
 * Sends through a fresh app with the listing cache off: cached writes of one key are spaced a second apart in
 * the background, which would make hundreds of random requests wait on each other. The cache has its own tests.
 */
const send = (path: string, init: AppRequest = {}) =>
  request(path, { ...init, env: { CACHE_TTL_LIST_SECONDS: "0", CACHE_TTL_ITEM_SECONDS: "0" } });

let operations: Operation[] = [];
const cursors: string[] = [];
let cases = 0;
const seed = Date.now();

const defs = EIGHT_BY_EIGHT_DEFINITION_IDS.demo;
const VALID: Record<string, string[]> = {
  account_id: ["acme-ops", "globex-support"],
  definition_id: [defs.orderNotifications, defs.appointmentReminders, defs.chatEscalation],
  batch_id: ["rb_doesNotExist000000000"],
  limit: ["1", "7", "50", "500"],
  sort: ["-created_at", "name"],
  status: ["completed", "running"],
  version: ["1", "2"],
  started_from: ["2026-10-01T00:00:00Z"],
  started_to: ["2026-10-31T23:59:59+02:00"],
  source: ["inkit", `8x8:acme-ops/${defs.appointmentReminders}`],
  created_after: ["2026-10-01T00:00:00Z"],
  created_before: ["2026-10-31T00:00:00Z"],
  "x-inkit-api-token": ["sim_inkit_demo_token", "sim_inkit_other_token"],
  "x-8x8-api-key": ["sim_8x8_demo_key"],
  "cache-control": ["no-cache", "max-age=0"],
  "if-none-match": ['"abc"', "*"],
};

const nasty = fc.constantFrom(
  "",
  " ",
  "0",
  "-1",
  "-0",
  "1e309",
  "1e-309",
  "99999999999999999999999",
  "9007199254740993",
  "NaN",
  "Infinity",
  "null",
  "true",
  "[]",
  "{}",
  "%",
  "%00",
  "%zz",
  "../../etc/passwd",
  "'; DROP TABLE runs;--",
  "<script>alert(1)</script>",
  "\u202e\u0000\u0085",
  "\ud800",
  "🦄🦄",
  "０１２",
  "a".repeat(5_000),
  ",".repeat(100),
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59-23:59",
  "2026-02-30T00:00:00Z",
  "2026-10-01T00:00:00.1234567890123Z",
);

const anyString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({ maxLength: 30 }),
);

const numberish = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: false }).map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
);

/** A mutated real cursor: flipped, cut, extended, re-keyed, or spliced with another's parts. */
const mutatedCursor = fc
  .tuple(fc.nat(), fc.nat(), fc.nat({ max: 5 }), fc.string({ maxLength: 8 }))
  .map(([i, j, how, extra]) => {
    const c = cursors[i % Math.max(1, cursors.length)] ?? "k2.e30.AAAA";
    const other = cursors[j % Math.max(1, cursors.length)] ?? c;
    const at = j % c.length;
    switch (how) {
      case 0:
        return c.slice(0, at) + (c[at] === "A" ? "B" : "A") + c.slice(at + 1);
      case 1:
        return c.slice(0, at);
      case 2:
        return c + extra;
      case 3:
        return `k9${c.slice(2)}`;
      case 4:
        return [c.split(".")[0], other.split(".")[1], c.split(".")[2]].join(".");
      default:
        return c;
    }
  });

/** Percent-encodes a path segment; a lone surrogate, which cannot be encoded, becomes U+FFFD. */
const encodeSegment = (s: string) =>
  encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"));

const valueFor = (name: string) => {
  const valid = Object.hasOwn(VALID, name) ? VALID[name] : undefined;
  const arbs = [nasty, anyString, numberish];
  if (name === "cursor") arbs.push(mutatedCursor, mutatedCursor);
  return valid ? fc.oneof(fc.constantFrom(...valid), fc.constantFrom(...valid), ...arbs) : fc.oneof(...arbs);
};

/** Header values must be ByteStrings without controls; anything else cannot even be sent. */
const headerSafe = (s: string) => [...s].every((ch) => ch === "\t" || (ch >= " " && ch !== "\u007f" && ch <= "\u00ff"));

const requestFor = (op: Operation) => {
  const byIn = (where: Parameter["in"]) => op.parameters.filter((p) => p.in === where);
  const path = fc.tuple(...byIn("path").map((p) => valueFor(p.name)));
  const knownQuery = byIn("query").map((p) => p.name);
  const query = fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...(knownQuery.length ? knownQuery : ["limit"])), fc.string({ maxLength: 12 })),
      fc.constant(null),
    ),
    { maxLength: 6 },
  );
  const queryWithValues = query.chain((entries) =>
    fc.tuple(...entries.map(([name]) => fc.tuple(fc.constant(name), valueFor(name)))),
  );
  const headerNames = [...byIn("header").map((p) => p.name), "x-request-id", "authorization", "accept"];
  const headers = fc.array(
    fc.constantFrom(...headerNames).chain((name) => fc.tuple(fc.constant(name), valueFor(name).filter(headerSafe))),
    { maxLength: 3 },
  );
  const auth = fc.constantFrom(TEST_API_KEY, TEST_API_KEY, TEST_API_KEY_2);
  return fc
    .record({ path, query: queryWithValues, headers, auth })
    .map(({ path: segments, query: q, headers: h, auth: a }) => {
      let i = 0;
      const url = op.path.replace(/\{[^}]+\}/g, () => encodeSegment(segments[i++] ?? ""));
      const params = new URLSearchParams();
      for (const [k, v] of q) params.append(k, v);
      const search = params.toString();
      const hdrs = new Headers({ Authorization: `Bearer ${a}` });
      for (const [k, v] of h) hdrs.set(k, v);
      return { url: search ? `${url}?${search}` : url, headers: hdrs };
    });
};

async function checkResponse(url: string, res: Response) {
  cases += 1;
  expect(res.status, url).toBeLessThan(500);
  if (res.status === 304) return;
  if (res.status >= 400) {
    await expectValidProblem(res);
    return;
  }
  expect(res.headers.get("Content-Type"), url).toMatch(/json/);
  await res.json();
}

beforeAll(async () => {
  await resetSimulators();
  resetCircuitBreakers();
  await applyD1Migrations(env.DB, (env as unknown as { TEST_MIGRATIONS: D1Migration[] }).TEST_MIGRATIONS);
  const doc = (await (await call("/openapi.json", { auth: false })).json()) as {
    paths: Record<string, Record<string, { parameters?: Parameter[] }>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    ops.get ? [{ path, parameters: ops.get.parameters ?? [] }] : [],
  );
  for (const path of [
    "/v1/inkit/runs?limit=3",
    "/v1/inkit/batches?limit=2",
    `/v1/8x8/accounts/acme-ops/definitions/${defs.orderNotifications}/runs?limit=4`,
    "/v1/runs?limit=3",
  ]) {
    const res = await call(path);
    if (res.status !== 200) continue;
    const page = ((await res.json()) as PageBody).page;
    for (const c of [page.next_cursor, page.prev_cursor]) if (c) cursors.push(c);
  }
});

afterAll(() => {
  console.log(`[fuzz] routes: ${cases} generated requests over ${operations.length} GET operations (seed ${seed})`);
});

describe("fuzzing every GET route", () => {
  it("knows the routes and has real cursors to mutate", () => {
    expect(operations.length).toBeGreaterThanOrEqual(8);
    expect(cursors.length).toBeGreaterThanOrEqual(3);
  });

  it("no generated request gets a 5xx, and every error is a problem document", async () => {
    const arbitrary = fc.integer({ min: 0, max: operations.length - 1 }).chain((i) => {
      const op = operations[i] as Operation;
      return requestFor(op);
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ url, headers }) => {
        await checkResponse(url, await send(url, { headers: Object.fromEntries(headers), auth: false }));
      }),
      { numRuns: 900, seed, endOnFailure: true },
    );
  });

  it("cursors, real, mutated or random, never get a 5xx on any list route", async () => {
    const lists = () => operations.filter((op) => op.parameters.some((p) => p.name === "cursor"));
    const arbitrary = fc.tuple(fc.nat(), valueFor("cursor"), fc.constantFrom(TEST_API_KEY, TEST_API_KEY_2));
    await fc.assert(
      fc.asyncProperty(arbitrary, async ([i, cursor, key]) => {
        const op = lists()[i % lists().length] as Operation;
        const path = op.path
          .replace("{account_id}", "acme-ops")
          .replace("{definition_id}", defs.orderNotifications)
          .replace("{id}", "evt_0");
        const url = `${path}?cursor=${encodeSegment(cursor)}`;
        await checkResponse(url, await send(url, { auth: key }));
      }),
      { numRuns: 250, seed: seed + 1, endOnFailure: true },
    );
  });

  it("/v1/runs: created_after/created_before outside 1970..9999 UTC are 400s; extra fractional digits are fine", async () => {
    for (const bad of ["1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"]) {
      for (const name of ["created_after", "created_before"]) {
        const res = await request(`/v1/runs?${name}=${encodeURIComponent(bad)}`);
        expect(res.status, `${name}=${bad}`).toBe(400);
        await expectValidProblem(res);
      }
    }
    const fine = await request(`/v1/runs?created_before=${encodeURIComponent("2026-10-31T00:00:00.1234567Z")}&limit=3`);
    expect(fine.status).toBe(200);
  });

  it("random methods and raw paths are 404/405 problems or served, never a 5xx", async () => {
    const methods = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "PROPFIND");
    const rawPath = fc.oneof(
      fc.constantFrom(...operations.map((op) => op.path.replace(/\{[^}]+\}/g, "x"))),
      fc
        .array(fc.oneof(anyString.map(encodeSegment), fc.constantFrom("v1", "inkit", "8x8", "runs", "..", "%2e%2e")), {
          maxLength: 5,
        })
        // A leading "//" would make the test's own URL parser read a host: not a path a client can send.
        .map((s) => `/${s.join("/")}`.replace(/^\/\/+/, "/x/")),
    );
    await fc.assert(
      fc.asyncProperty(methods, rawPath, async (method, path) => {
        const res = await send(path, { method });
        cases += 1;
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
        if (res.status >= 400 && method !== "HEAD") await expectValidProblem(res);
      }),
      { numRuns: 250, seed: seed + 2, endOnFailure: true },
    );
  });
});
