import fc from "fast-check";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/http/app-env";
import { servedEntityTag } from "../../src/http/caching/entity-tags";
import { entityTag, listPageEntityTag } from "../../src/http/caching/etag";
import { handedBody, type ServedBody, serializeListBody } from "../../src/http/caching/served-body";
import { listResponse } from "../../src/http/list-response";
import { toBase64Url } from "../../src/shared/base64url";

const encoder = new TextEncoder();

/** Cursors as pages carry them, and the strings a cursor field could hold that are not one. */
const cursor = fc.oneof(
  fc.constant(null),
  fc
    .record({
      kid: fc.constantFrom("k1", "k2"),
      s: fc.integer({ min: 0, max: 4_000_000_000_000 }),
      k: fc.option(fc.tuple(fc.string(), fc.integer()), { nil: null }),
      d: fc.constantFrom("n", "p"),
    })
    .map(({ kid, ...payload }) => `${kid}.${toBase64Url(encoder.encode(JSON.stringify(payload)))}`),
  fc.string(),
  fc.constant("k1.not-base64!"),
);

const pageInfo = fc.record(
  {
    limit: fc.integer({ min: 1, max: 500 }),
    has_more: fc.boolean(),
    next_cursor: cursor,
    prev_cursor: cursor,
    total: fc.option(fc.nat(), { nil: null }),
    errors: fc.array(fc.record({ source: fc.string(), status: fc.integer() }), { maxLength: 2 }),
  },
  { requiredKeys: ["limit", "has_more", "next_cursor", "total"] },
);

const items = fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 });

describe("entity tags of list pages from their serialized parts", () => {
  it("equal the tag of the whole body, for any items and any cursors", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
        items,
        pageInfo,
        fc.integer({ min: 60, max: 30 * 86_400 }),
        async (before, data, page, ttl) => {
          // Whatever comes before `page`, as long as `page` is last.
          const { page: _, ...others } = before;
          const value = { ...others, data, page };
          const { text, parts } = serializeListBody(value);
          expect(text).toBe(JSON.stringify(value));
          expect(parts).toBeDefined();
          expect(await listPageEntityTag(parts as NonNullable<typeof parts>, ttl)).toBe(await entityTag(text, ttl));
        },
      ),
    );
  });

  it("equal it for a `page` that is not a list page's (a strong tag over the bytes)", async () => {
    for (const page of [{}, { limit: 1 }, null, [], "x", 1]) {
      const { text, parts } = serializeListBody({ data: [{ id: "a" }], page });
      expect(text).toBe(JSON.stringify({ data: [{ id: "a" }], page }));
      expect(await listPageEntityTag(parts as NonNullable<typeof parts>, 86_400)).toBe(await entityTag(text, 86_400));
    }
  });

  it("equal it when `page` is not the body's last top-level member (no parts: entityTag then decides)", async () => {
    const page = { limit: 1, has_more: false, next_cursor: "k1.x", prev_cursor: null, total: null };
    const p = JSON.stringify(page);
    const cases: [object, boolean][] = [
      [{ page, data: [] }, false],
      [{ data: { page } }, false],
      [{ 'x"page': page }, false],
      [{ data: [`,"page":${p}`], page: 1 }, true],
    ];
    for (const [value, hasParts] of cases) {
      const served = serializeListBody(value as { page: unknown });
      expect(served.text).toBe(JSON.stringify(value));
      expect(served.parts !== undefined).toBe(hasParts);
      const body: ServedBody = { response: new Response(), ...served };
      expect(await servedEntityTag(body, 86_400)).toBe(await entityTag(served.text, 86_400));
    }
  });

  it("serializes any body exactly as JSON.stringify does, in parts whenever `page` is last", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
        fc.jsonValue({ maxDepth: 2 }),
        fc.boolean(),
        (others, page, last) => {
          const { page: _, ...rest } = others;
          const value = last ? { ...rest, page } : { page, ...rest };
          const { text, parts } = serializeListBody(value);
          expect(text).toBe(JSON.stringify(value));
          expect(parts !== undefined).toBe(Object.keys(value).at(-1) === "page");
          if (parts) expect(parts.page).toBe(JSON.stringify(page));
        },
      ),
    );
  });
});

describe("listResponse", () => {
  const app = new Hono<AppEnv>();
  let body: unknown;
  let handed: ServedBody | undefined;
  const headers = { Link: '<https://example.com/v1/x?cursor=abc>; rel="next"' };
  app.get("/list", (c) => {
    const res = listResponse(c, { body: body as { data: unknown[]; page: object }, headers });
    handed = handedBody(c, res);
    return res;
  });
  app.get("/json", (c) => c.json(body as object, 200, headers));

  it("sends what c.json sends, and hands its body and page over as serialized", async () => {
    await fc.assert(
      fc.asyncProperty(items, pageInfo, async (data, page) => {
        body = { data, page };
        const [a, b] = [await app.request("/list"), await app.request("/json")];
        expect([...a.headers]).toEqual([...b.headers]);
        expect(a.status).toBe(b.status);
        expect(await a.text()).toBe(await b.text());
        expect(handed?.text).toBe(JSON.stringify(body));
        expect(handed?.parts?.page).toBe(JSON.stringify(page));
      }),
    );
  });

  it("hands no parts over for a body whose last member is not `page`, and nothing for another response", async () => {
    body = { page: { limit: 1 }, data: [] };
    const [a, b] = [await app.request("/list"), await app.request("/json")];
    expect(await a.text()).toBe(await b.text());
    expect(handed?.text).toBe(JSON.stringify(body));
    expect(handed?.parts).toBeUndefined();

    const other = new Hono<AppEnv>();
    let found: ServedBody | undefined;
    other.get("/", (c) => {
      listResponse(c, { body: { data: [], page: { limit: 1 } }, headers: {} });
      const replaced = c.json({ other: true });
      found = handedBody(c, replaced);
      return replaced;
    });
    await other.request("/");
    expect(found).toBeUndefined();
  });
});
