import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_API_KEYS, EIGHT_BY_EIGHT_DEFINITION_IDS, INKIT_API_TOKENS } from "../../simulator/credentials";
import { EVENT_TYPES } from "../../src/schemas/events";
import { resetCircuitBreakers } from "../../src/upstream/circuit-breaker";
import {
  TEST_API_KEY,
  TEST_API_KEY_2,
  TEST_EIGHTBYEIGHT_INBOUND_SECRET,
  TEST_INKIT_WEBHOOK_SECRET,
} from "../setup/bindings";
import { expectDeclaredSuccess, validatedBodies } from "../support/contract";
import { FUZZ_SEED, fuzz, fuzzRuns } from "../support/fuzz";
import { expectProblem } from "../support/problem";
import { resetSimulators } from "../support/simulator";
import type { PageBody } from "../support/walk";
import { hmacHex, recordingQueue, resetWebhookStore } from "../support/webhooks";
import { type AppRequest, call, request } from "../support/worker";

// Property-based fuzzing of every operation in the live OpenAPI document: for GETs, random path segments, query
// parameters (known and unknown, repeated, unicode, huge and negative numbers, real and mutated cursors) and
// headers; for POSTs and PATCHes, bodies built from the declared request schemas, mixed with junk, with their
// declared headers (Idempotency-Key reused across bodies, If-Match real, stale or junk); DELETEs with theirs. Invariants:
// never a 5xx; every non-2xx is a valid problem document; every 2xx is declared by its operation and its body
// parses with the declared response schema. Seeds: test/support/fuzz.ts (FUZZ_SEED, FUZZ_PATH).

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
interface SchemaObject {
  $ref?: string;
  enum?: unknown[];
  example?: unknown;
  items?: SchemaObject;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  /** A body of alternatives (a discriminated union): fuzzed as the union of their fields. */
  oneOf?: SchemaObject[];
}
interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: SchemaObject }> } }>
  >;
  components: { schemas: Record<string, SchemaObject> };
}
interface BodyOperation {
  method: "POST" | "PATCH";
  path: string;
  /** The declared JSON body's properties, `$ref`s resolved one level; null when the operation takes no body. */
  properties: Record<string, SchemaObject> | null;
  required: string[];
  /** The declared header parameters, e.g. `idempotency-key`, `if-match`. */
  headers: string[];
}

/**
 * Sends through a fresh app with the listing cache off: cached writes of one key are spaced a second apart in
 * the background, which would make hundreds of random requests wait on each other. The cache has its own tests.
 */
const send = (path: string, init: AppRequest = {}) =>
  request(path, { ...init, env: { CACHE_TTL_LIST_SECONDS: "0", CACHE_TTL_ITEM_SECONDS: "0" } });

let operations: Operation[] = [];
let bodyOperations: BodyOperation[] = [];
let deleteOperations: Operation[] = [];
const cursors: string[] = [];
/** Entity tags the worker sent (GETs and PATCH answers): current or, once changed, stale, for `If-Match`. */
const etags: string[] = [];
let cases = 0;
/** What the write headers led to, e.g. `idempotency-key 201 replayed`, `if-match 412`: printed at the end. */
const headerOutcomes: Record<string, number> = {};

function tallyHeaders(sent: Record<string, string>, res: Response): void {
  for (const name of ["idempotency-key", "if-match"]) {
    if (!(name in sent)) continue;
    const what = `${name} ${res.status}${res.headers.get("Idempotent-Replayed") ? " replayed" : ""}`;
    headerOutcomes[what] = (headerOutcomes[what] ?? 0) + 1;
  }
}

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
  // A real saved feed's id is added once it is saved (beforeAll), besides one that never existed.
  feed: ["feed_01JD5Q0Z8K3M4N5P6Q7R8S9T0V"],
  created_after: ["2026-10-01T00:00:00Z"],
  created_before: ["2026-10-31T00:00:00Z"],
  "x-inkit-api-token": ["sim_inkit_demo_token", "sim_inkit_other_token"],
  "x-8x8-api-key": ["sim_8x8_demo_key"],
  "cache-control": ["no-cache", "max-age=0"],
  "if-none-match": ['"abc"', "*"],
  // Few keys, so they are reused across bodies, operations and API keys: replays, 422s and fresh claims.
  "idempotency-key": ["fuzz-key-1", "fuzz-key-2", "8e03978e-40d5-43e8-bc93-6894a57f9324", "k".repeat(255)],
  "if-match": ["*", '"abc"', 'W/"abc"', '"abc", "def"'],
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

/** A tag the worker sent: current when nothing changed the resource since, stale otherwise. */
const knownEtag = fc.nat().map((i) => etags[i % Math.max(1, etags.length)] ?? '"none"');

const valueFor = (name: string) => {
  const valid = Object.hasOwn(VALID, name) ? VALID[name] : undefined;
  const arbs = [nasty, anyString, numberish];
  if (name === "cursor") arbs.push(mutatedCursor, mutatedCursor);
  if (name === "if-match") arbs.push(knownEtag, knownEtag, knownEtag);
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

async function checkResponse(url: string, res: Response, method = "GET") {
  cases += 1;
  expect(res.status, `${method} ${url}`).toBeLessThan(500);
  if (res.status === 304) return;
  if (res.status >= 400) {
    if (method !== "HEAD") await expectProblem(res);
    return;
  }
  expect(res.status, `${method} ${url}`).toBeLessThan(300);
  await expectDeclaredSuccess(method, url, res);
}

beforeAll(async () => {
  await resetSimulators();
  resetCircuitBreakers();
  await applyD1Migrations(env.DB, (env as unknown as { TEST_MIGRATIONS: D1Migration[] }).TEST_MIGRATIONS);
  const doc = (await (await call("/openapi.json", { auth: false })).json()) as OpenApiDoc;
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    ops.get ? [{ path, parameters: ops.get.parameters ?? [] }] : [],
  );
  bodyOperations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    (["post", "patch"] as const).flatMap((m) => {
      const op = ops[m];
      if (!op) return [];
      const ref = op.requestBody?.content?.["application/json"]?.schema?.$ref;
      const named = ref ? doc.components.schemas[ref.replace("#/components/schemas/", "")] : undefined;
      // Alternatives: every field any of them declares, required where all of them require it.
      const schema = named?.oneOf
        ? {
            properties: Object.assign({}, ...named.oneOf.map((alt) => alt.properties ?? {})) as Record<
              string,
              SchemaObject
            >,
            required: (named.oneOf[0]?.required ?? []).filter((r) =>
              named.oneOf?.every((alt) => alt.required?.includes(r)),
            ),
          }
        : named;
      const properties = schema?.properties ?? null;
      if (properties) {
        for (const [name, prop] of Object.entries(properties)) {
          const itemRef = prop.items?.$ref;
          if (itemRef) prop.items = doc.components.schemas[itemRef.replace("#/components/schemas/", "")];
          properties[name] = prop;
        }
      }
      const headers = (op.parameters ?? []).filter((p) => p.in === "header").map((p) => p.name);
      return [
        { method: m.toUpperCase() as "POST" | "PATCH", path, properties, required: schema?.required ?? [], headers },
      ];
    }),
  );
  deleteOperations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    ops.delete ? [{ path, parameters: ops.delete.parameters ?? [] }] : [],
  );
  const saved = await call("/v1/feeds", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sources: ["inkit", `8x8:acme-ops/${defs.appointmentReminders}`] }),
  });
  expect(saved.status).toBe(201);
  const feed = ((await saved.json()) as { id: string }).id;
  VALID.feed?.push(feed);
  for (const path of [
    `/v1/runs?feed=${feed}&limit=3`,
    "/v1/inkit/runs?limit=3",
    "/v1/inkit/batches?limit=2",
    `/v1/8x8/accounts/acme-ops/definitions/${defs.orderNotifications}/runs?limit=4`,
    "/v1/runs?limit=3",
    "/v1/event-stream?limit=1",
  ]) {
    const res = await call(path);
    if (res.status !== 200) continue;
    const page = ((await res.json()) as PageBody).page;
    for (const c of [page.next_cursor, page.prev_cursor]) if (c) cursors.push(c);
  }
});

afterAll(async () => {
  await resetWebhookStore();
  const runs = Object.entries(fuzzRuns)
    .map(([id, n]) => `${id} ${n}`)
    .join(", ");
  const bodies = Object.values(validatedBodies).reduce((a, b) => a + b, 0);
  const perOperation = Object.entries(validatedBodies)
    .map(([op, n]) => `${op} ${n}`)
    .join(", ");
  console.log(
    `[fuzz] write headers: ${Object.entries(headerOutcomes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([what, n]) => `${what}: ${n}`)
      .join(", ")}`,
  );
  console.log(
    `[fuzz] routes: ${cases} generated requests (${runs}) over ${operations.length} GET and ${bodyOperations.length} POST/PATCH operations; ${bodies} 2xx bodies validated against their response schemas (${perOperation}) (FUZZ_SEED=${FUZZ_SEED})`,
  );
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
    await fuzz(
      "routes.get",
      fc.asyncProperty(arbitrary, async ({ url, headers }) => {
        await checkResponse(url, await send(url, { headers: Object.fromEntries(headers), auth: false }));
      }),
      900,
    );
  });

  it("cursors, real, mutated or random, never get a 5xx on any list route", async () => {
    const lists = () => operations.filter((op) => op.parameters.some((p) => p.name === "cursor"));
    const arbitrary = fc.tuple(fc.nat(), valueFor("cursor"), fc.constantFrom(TEST_API_KEY, TEST_API_KEY_2));
    await fuzz(
      "routes.cursors",
      fc.asyncProperty(arbitrary, async ([i, cursor, key]) => {
        const op = lists()[i % lists().length] as Operation;
        const path = op.path
          .replace("{account_id}", "acme-ops")
          .replace("{definition_id}", defs.orderNotifications)
          .replace("{id}", "evt_0");
        const url = `${path}?cursor=${encodeSegment(cursor)}`;
        await checkResponse(url, await send(url, { auth: key }));
      }),
      250,
    );
  });

  it("/v1/runs: created_after/created_before outside 1970..9999 UTC are 400s; extra fractional digits are fine", async () => {
    for (const bad of ["1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"]) {
      for (const name of ["created_after", "created_before"]) {
        const res = await request(`/v1/runs?${name}=${encodeURIComponent(bad)}`);
        expect(res.status, `${name}=${bad}`).toBe(400);
        await expectProblem(res);
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
    await fuzz(
      "routes.methods",
      fc.asyncProperty(methods, rawPath, async (method, path) => {
        await checkResponse(path, await send(path, { method }), method);
      }),
      250,
    );
  });
});

// Bodies: what each declared field may plausibly hold, then anything at all.
const BODY_VALID: Record<string, unknown[]> = {
  url: ["http://127.0.0.1:9/hooks/fuzz", "https://hooks.example.com/tributary"],
  sources: [
    ["inkit:runs"],
    ["inkit", `8x8:acme-ops/${defs.orderNotifications}`],
    [`8x8:acme-ops/${defs.appointmentReminders.toUpperCase()}`],
    ["inkit:batches", "inkit:runs"],
  ],
  event_types: [["run.completed"], ["batch.created", "run.failed"]],
  description: ["fuzzed", null],
  enabled: [true, false],
  since: ["2026-01-01T00:00:00Z", "2026-10-01T00:00:00.123456+02:00"],
  until: ["2026-12-31T23:59:59Z", "2025-01-01T00:00:00Z"],
  event_type: ["render.completed", "mail.delivered"],
  resource_id: ["rend_2DhtpDQ5ErIaNJQRtCpKfN", "fb_doesNotExist", "rb_doesNotExist"],
  definitionId: [defs.appointmentReminders, defs.orderNotifications.toUpperCase()],
  accountId: ["acme-ops", "globex-support"],
  provider: ["inkit", "8x8"],
  account_id: ["acme-ops", "globex-support"],
  credentials: [
    { api_token: INKIT_API_TOKENS.demo },
    { api_key: EIGHT_BY_EIGHT_API_KEYS.demo },
    { api_token: "sim_inkit_unknown_token" },
    { api_key: "with space" },
    { api_token: "ctrl\u0007char" },
  ],
  name: ["Acme", null],
};

const BODY_NASTY: unknown[] = [
  "",
  "http://169.254.169.254/latest/meta-data",
  "https://0x7f000001/",
  "https://[::ffff:127.0.0.1]/",
  "javascript:alert(1)",
  "a".repeat(3_000),
  ["inkit:nope"],
  [...EVENT_TYPES],
  Array.from({ length: 40 }, () => "inkit:runs"),
  "2026-02-30T00:00:00Z",
  "9999-12-31T23:59:59-23:59",
  -1,
  1e308,
  {},
  [],
  { nested: { deeper: [null] } },
];

/** One field's value: plausible (its examples, enums, known values) or junk of any JSON type. */
const fieldValue = (name: string, schema: SchemaObject) => {
  const plausible = [
    ...(BODY_VALID[name] ?? []),
    ...(schema.enum ?? []),
    ...(schema.items?.enum ? [schema.items.enum.slice(0, 2)] : []),
    ...(schema.example === undefined ? [] : [schema.example]),
  ];
  const junk = fc.oneof(fc.constantFrom(...BODY_NASTY), fc.jsonValue({ maxDepth: 2 }), anyString);
  return plausible.length > 0 ? fc.oneof(fc.constantFrom(...plausible), fc.constantFrom(...plausible), junk) : junk;
};

/** A JSON body for an operation: its fields (required ones usually present), sometimes extra keys or no object. */
const bodyValue = (op: BodyOperation) => {
  const properties = op.properties ?? {};
  const names = Object.keys(properties);
  const fields = fc
    .tuple(
      ...names.map((name) =>
        fc.option(fieldValue(name, properties[name] as SchemaObject), {
          freq: op.required.includes(name) ? 8 : 2,
          nil: undefined,
        }),
      ),
    )
    .map((values) => Object.fromEntries(names.flatMap((n, i) => (values[i] === undefined ? [] : [[n, values[i]]]))));
  const extra = fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 });
  return fc.oneof(
    { weight: 6, arbitrary: fields },
    { weight: 1, arbitrary: fc.tuple(fields, extra).map(([f, e]) => ({ ...e, ...f })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
};

/** The raw bytes sent: the JSON text mostly, sometimes broken, empty or over the 64 KiB body limit. */
const rawBody = (op: BodyOperation) =>
  fc.oneof(
    { weight: 10, arbitrary: bodyValue(op).map((v) => JSON.stringify(v) ?? "null") },
    {
      weight: 1,
      arbitrary: fc.constantFrom("", "{", '{"url":', "\ufeff{}", "null", "[]", '{"a":1}garbage', "\u0000"),
    },
    { weight: 1, arbitrary: fc.constant(JSON.stringify({ description: "x".repeat(70 * 1024) })) },
  );

describe("fuzzing every POST and PATCH body", () => {
  /**
   * Real endpoints, subscriptions, feeds and connections of both keys, so path ids reach the handlers, plus ids that
   * do not exist.
   */
  const endpointIds: string[] = [];
  const subscriptionIds: string[] = [];
  const feedIds: string[] = [];
  const connectionIds: string[] = [];
  type Owned = "endpoint" | "subscription" | "feed" | "connection";
  const kindOf = (path: string): Owned =>
    path.startsWith("/v1/event-subscriptions")
      ? "subscription"
      : path.startsWith("/v1/feeds")
        ? "feed"
        : path.startsWith("/v1/connections")
          ? "connection"
          : "endpoint";
  const idsOf = (path: string) =>
    ({ endpoint: endpointIds, subscription: subscriptionIds, feed: feedIds, connection: connectionIds })[kindOf(path)];
  // Deliveries are recorded, never sent: a fuzzed endpoint URL must not receive requests.
  const queues = {
    WEBHOOK_QUEUE: recordingQueue().binding,
    WEBHOOK_DLQ: recordingQueue().binding,
    DETECTION_QUEUE: recordingQueue().binding,
  };
  const bodyEnv = { CACHE_TTL_LIST_SECONDS: "0", CACHE_TTL_ITEM_SECONDS: "0", WEBHOOK_CHECK_ITEMS: "20", ...queues };

  /** Creates an endpoint, a subscription or a feed owned by `key` (GETting it for its tag); returns its id. */
  async function createOwned(kind: Owned, key: string): Promise<string> {
    const [path, body] = {
      endpoint: ["/v1/webhook-endpoints", { url: "http://127.0.0.1:9/hooks/fuzz", sources: ["inkit:runs"] }] as const,
      subscription: ["/v1/event-subscriptions", { sources: ["inkit:runs"] }] as const,
      feed: ["/v1/feeds", { sources: ["inkit"] }] as const,
      connection: [
        "/v1/connections",
        { provider: "inkit", credentials: { api_token: INKIT_API_TOKENS.demo } },
      ] as const,
    }[kind];
    const res = await request(path, {
      method: "POST",
      auth: key,
      env: bodyEnv,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    collectEtag(await request(`${path}/${id}`, { auth: key, env: bodyEnv }));
    return id;
  }

  /** Replaces the `index`-th endpoint, subscription or feed, just deleted, with a new one of the same owner. */
  async function replaceDeleted(path: string, index: number, key: string): Promise<void> {
    idsOf(path)[index] = await createOwned(kindOf(path), key);
  }

  beforeAll(async () => {
    await resetWebhookStore();
    for (const key of [TEST_API_KEY, TEST_API_KEY_2]) {
      endpointIds.push(await createOwned("endpoint", key));
      subscriptionIds.push(await createOwned("subscription", key));
      feedIds.push(await createOwned("feed", key));
      connectionIds.push(await createOwned("connection", key));
    }
  });

  it("knows every operation that takes a body", () => {
    expect(bodyOperations.map((o) => `${o.method} ${o.path}`).sort()).toEqual(
      [
        "PATCH /v1/webhook-endpoints/{id}",
        "PATCH /v1/event-subscriptions/{id}",
        "PATCH /v1/connections/{id}",
        "POST /v1/connections",
        "POST /v1/connections/{id}/test",
        "POST /v1/event-subscriptions",
        "POST /v1/feeds",
        "POST /v1/inbound/8x8",
        "POST /v1/inbound/inkit",
        "POST /v1/webhook-endpoints",
        "POST /v1/webhook-endpoints/{id}/replay",
        "POST /v1/webhook-endpoints/{id}/rotate-secret",
        "POST /v1/webhook-endpoints/{id}/test",
      ].sort(),
    );
    for (const op of bodyOperations.filter((o) => o.path !== "/v1/webhook-endpoints/{id}/rotate-secret")) {
      if (op.path.endsWith("/test")) continue;
      expect(Object.keys(op.properties ?? {}).length, `${op.method} ${op.path}`).toBeGreaterThan(0);
    }
    // Every POST of the API takes an Idempotency-Key (inbound pushes come from the upstreams, not API callers);
    // every PATCH an If-Match. The bodies below are sent with them.
    for (const op of bodyOperations) {
      const writeHeaders = op.headers.filter((h) => h === "if-match" || h === "idempotency-key");
      const expected =
        op.method === "PATCH" ? ["if-match"] : op.path.startsWith("/v1/inbound/") ? [] : ["idempotency-key"];
      expect(writeHeaders, `${op.method} ${op.path}`).toEqual(expected);
    }
  });

  it("no generated body gets a 5xx; every error is a problem document; every 2xx matches its schema", async () => {
    const idFrom = (real: string[]) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...real) },
        { weight: 1, arbitrary: fc.oneof(fc.constantFrom("we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V", "x", "%2e%2e"), anyString) },
      );
    const contentType = fc.constantFrom(
      "application/json",
      "application/json",
      "application/json",
      "application/json; charset=utf-8",
      "text/plain",
      null,
    );
    const arbitrary = fc.integer({ min: 0, max: bodyOperations.length - 1 }).chain((i) => {
      const op = bodyOperations[i] as BodyOperation;
      return fc.record({
        // Named, not embedded: a counterexample prints the operation, not its whole schema.
        operation: fc.constant(`${op.method} ${op.path}`),
        // Inbound pushes' own signature header is set below, correctly most of the time.
        declared: declaredHeaders(op.headers.filter((h) => h !== "inkit-signature")),
        id: idFrom(idsOf(op.path)),
        body: rawBody(op),
        contentType,
        key: fc.constantFrom(TEST_API_KEY, TEST_API_KEY, TEST_API_KEY_2),
        // Inbound pushes: correctly authenticated most of the time, so bodies reach validation.
        signed: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
      });
    });
    await fuzz(
      "routes.bodies",
      fc.asyncProperty(arbitrary, async ({ operation, declared, id: rawId, body, contentType: type, key, signed }) => {
        const op = bodyOperations.find((o) => `${o.method} ${o.path}` === operation) as BodyOperation;
        const url = op.path.replace("{id}", encodeSegment(rawId));
        const headers: Record<string, string> = { ...declared, ...(type === null ? {} : { "Content-Type": type }) };
        let auth: string | false = key;
        if (op.path === "/v1/inbound/inkit") {
          auth = false;
          headers["Inkit-Signature"] = signed ? await hmacHex(TEST_INKIT_WEBHOOK_SECRET, body) : "00".repeat(32);
        } else if (op.path === "/v1/inbound/8x8") {
          auth = false;
          headers.Authorization = `Bearer ${signed ? TEST_EIGHTBYEIGHT_INBOUND_SECRET : "wrong"}`;
        }
        const res = await request(url, { method: op.method, auth, headers, body, env: bodyEnv });
        collectEtag(res);
        tallyHeaders(declared, res);
        await checkResponse(url, res, op.method);
      }),
      400,
    );
  });

  it("DELETEs with their declared headers: never a 5xx, every error a problem document", async () => {
    expect(deleteOperations.map((o) => o.path).sort()).toEqual(
      ["/v1/connections/{id}", "/v1/event-subscriptions/{id}", "/v1/feeds/{id}", "/v1/webhook-endpoints/{id}"].sort(),
    );
    const arbitrary = fc.integer({ min: 0, max: deleteOperations.length - 1 }).chain((i) => {
      const op = deleteOperations[i] as Operation;
      const names = op.parameters.filter((p) => p.in === "header").map((p) => p.name);
      return fc.record({
        path: fc.constant(op.path),
        declared: declaredHeaders(names),
        pick: fc.nat(),
        junkId: fc.option(anyString, { freq: 5 }),
        key: fc.constantFrom(TEST_API_KEY, TEST_API_KEY, TEST_API_KEY_2),
      });
    });
    await fuzz(
      "routes.deletes",
      fc.asyncProperty(arbitrary, async ({ path, declared, pick, junkId, key }) => {
        const real = idsOf(path);
        const url = path.replace("{id}", encodeSegment(junkId ?? real[pick % real.length] ?? "x"));
        const res = await request(url, { method: "DELETE", auth: key, headers: declared, env: bodyEnv });
        tallyHeaders(declared, res);
        await checkResponse(url, res, "DELETE");
        // Deleted: put a fresh one in its place, so later cases reach the handlers again.
        if (res.status === 204 && junkId === null) await replaceDeleted(path, pick % real.length, key);
      }),
      150,
    );
  });
});

/** Values for an operation's declared headers (plausible mostly, junk sometimes), each present or not. */
const declaredHeaders = (names: string[]) =>
  fc
    .tuple(...names.map((name) => fc.option(valueFor(name).filter(headerSafe), { freq: 2, nil: undefined })))
    .map((values) =>
      Object.fromEntries(names.flatMap((n, i) => (values[i] === undefined ? [] : [[n, values[i] as string]]))),
    );

function collectEtag(res: Response): void {
  const tag = res.headers.get("ETag");
  if (tag && !etags.includes(tag)) etags.push(tag);
}
