import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CursorPayload, cursorKeys, signCursor } from "../../src/paging/cursor";
import { fromBase64Url, toBase64Url } from "../../src/shared/base64url";
import { ProblemError } from "../../src/shared/problem";
import {
  resumedFilters,
  type StreamCursor,
  signStreamCursor,
  streamBinding,
  verifyStreamCursor,
} from "../../src/stream/cursor";
import { streamPage } from "../../src/stream/read";

const keys = await cursorKeys("k2:stream-test-secret-0123456789abcdef,k1:older-stream-secret-0123456789abcdef");
const older = await cursorKeys("k1:older-stream-secret-0123456789abcdef");
const caller = await streamBinding("key-a");
const cursor: StreamCursor = { caller, filters: { type: "run.completed" }, limit: 25, position: 42 };

/** The problem type a promise or call rejects with. */
async function problemOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ProblemError) return `${err.status} ${err.type}`;
    throw err;
  }
  throw new Error("did not throw");
}

describe("stream cursor codec", () => {
  it("round-trips any position, limit and filters, URL-safe and short", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.integer({ min: 1, max: 500 }),
        fc.option(fc.constantFrom("run.created", "ping"), { nil: undefined }),
        fc.option(fc.constantFrom("inkit:runs", "8x8:acme-ops/3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14"), {
          nil: undefined,
        }),
        async (position, limit, type, source) => {
          const filters = { ...(type ? { type } : {}), ...(source ? { source } : {}) };
          const token = await signStreamCursor({ caller, filters, limit, position }, keys);
          expect(token).toMatch(/^k2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
          expect(token.length).toBeLessThan(300);
          expect(await verifyStreamCursor(token, keys)).toEqual({ caller, filters, limit, position });
        },
      ),
      { seed: 7, numRuns: 50 },
    );
  });

  it("is deterministic: one position and binding is one cursor", async () => {
    expect(await signStreamCursor(cursor, keys)).toBe(await signStreamCursor({ ...cursor }, keys));
  });

  it("verifies with every configured key: a cursor signed before a rotation is still accepted", async () => {
    const token = await signStreamCursor(cursor, older);
    expect((await verifyStreamCursor(token, keys)).position).toBe(42);
    expect(await problemOf(() => verifyStreamCursor(token, [keys[0] as (typeof keys)[0]]))).toBe("400 invalid-cursor");
  });

  it("any modification is a 400 invalid-cursor, never another position", async () => {
    const token = await signStreamCursor(cursor, keys);
    const [kid, body, tag] = token.split(".") as [string, string, string];
    const forged = toBase64Url(
      new TextEncoder().encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(fromBase64Url(body))), p: 0 })),
    );
    for (const bad of [
      `${kid}.${forged}.${tag}`,
      `${kid}.${body}.${tag.slice(0, -2)}AA`,
      `${kid}.${body}`,
      `${token}.x`,
      `k9.${body}.${tag}`,
      "",
      "k2.%%%.AAAA",
      token.slice(0, -1),
    ]) {
      expect(await problemOf(() => verifyStreamCursor(bad, keys)), bad).toBe("400 invalid-cursor");
    }
  });

  it("a list route's cursor, validly signed, is not a stream cursor", async () => {
    const list: CursorPayload = { v: 2, r: "events", b: "x", f: {}, l: 50, d: "n", k: null, p: [], s: 0 };
    expect(await problemOf(async () => verifyStreamCursor(await signCursor(list, keys), keys))).toBe(
      "400 invalid-cursor",
    );
  });
});

describe("resuming a stream", () => {
  it("takes the cursor's filters when none are sent, or the same ones", () => {
    expect(resumedFilters(cursor, caller, {})).toEqual({ type: "run.completed" });
    expect(resumedFilters(cursor, caller, { type: "run.completed" })).toEqual({ type: "run.completed" });
  });

  it("refuses another caller's cursor and other filters, naming them", async () => {
    expect(await problemOf(async () => resumedFilters(cursor, await streamBinding("key-b"), {}))).toBe(
      "400 invalid-cursor",
    );
    for (const sent of [{ type: "run.failed" }, { source: "inkit:runs" }]) {
      let error: unknown;
      try {
        resumedFilters(cursor, caller, sent);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ProblemError);
      expect((error as ProblemError).init.errors).toEqual([
        { in: "cursor", name: Object.keys(sent)[0], message: expect.any(String) },
      ]);
    }
  });

  it("binds to the caller through a digest, never the key id itself", async () => {
    expect(caller).not.toContain("key-a");
    expect(await streamBinding("key-a")).toBe(caller);
    expect(await streamBinding("key-b")).not.toBe(caller);
  });
});

describe("stream pages", () => {
  const at = (...positions: number[]) => positions.map((position) => ({ position }));

  it("a full page continues after its last item; more follow", () => {
    expect(streamPage(at(4, 9, 12), 2, 0, 20)).toEqual({ items: at(4, 9), hasMore: true, next: 9 });
  });

  it("a short page read everything committed up to the counter: the next page starts there", () => {
    expect(streamPage(at(4, 9), 2, 0, 20)).toEqual({ items: at(4, 9), hasMore: false, next: 20 });
    expect(streamPage([], 5, 7, 20)).toEqual({ items: [], hasMore: false, next: 20 });
  });

  it("never moves back, and never past an unread item", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 10 }),
        fc.nat(1000),
        (positions, limit, extra) => {
          const rows = at(...positions.sort((a, b) => a - b));
          const from = (rows[0]?.position ?? 1) - 1;
          const last = (rows.at(-1)?.position ?? from) + extra;
          const page = streamPage(rows.slice(0, limit + 1), limit, from, last);
          expect(page.next).toBeGreaterThanOrEqual(from);
          expect(page.items.every((r) => r.position <= page.next)).toBe(true);
          const unread = rows.filter((r) => !page.items.includes(r));
          expect(unread.every((r) => r.position > page.next)).toBe(true);
        },
      ),
      { seed: 11 },
    );
  });
});
