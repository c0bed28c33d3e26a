import { describe, expect, it } from "vitest";
import { defaultFeedSources, defaultWatchedSources } from "../../src/providers/default-sources";
import {
  canonicalFeedSources,
  canonicalSourceKey,
  FEED_SOURCE_PATTERN,
  feedSourceName,
  formatSourceKey,
  parseFeedSource,
  parseSourceKey,
  resourceName,
  SOURCE_KEY_INPUT_PATTERN,
  SOURCE_KEY_PATTERN,
} from "../../src/schemas/sources";

const DEF = "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14";
const env = (DEFAULT_SOURCES?: string) => ({ DEFAULT_SOURCES }) as unknown as Env;

describe("source catalog", () => {
  it("parses every spelling into one key and formats it canonically", () => {
    expect(parseSourceKey("inkit")).toEqual({ provider: "inkit", listing: "runs" });
    expect(canonicalSourceKey("inkit")).toBe("inkit:runs");
    for (const listing of ["runs", "workflow-batches", "batches"] as const) {
      expect(canonicalSourceKey(`inkit:${listing}`)).toBe(`inkit:${listing}`);
    }
    expect(parseSourceKey(`8x8:acme-ops/${DEF.toUpperCase()}`)).toEqual({
      provider: "8x8",
      accountId: "acme-ops",
      definitionId: DEF,
    });
    for (const bad of ["inkit:everything", "8x8:acme-ops/not-a-uuid", "8x8:/x", " inkit", "INKIT", ""]) {
      expect(parseSourceKey(bad), bad).toBeNull();
    }
  });

  it("names cache resources exactly as the sources they hold", () => {
    expect(resourceName({ provider: "inkit", listing: "batches" })).toBe("inkit:batches");
    expect(resourceName({ provider: "8x8", accountId: "a", definitionId: DEF })).toBe(`8x8:a/${DEF}`);
    expect(formatSourceKey(parseSourceKey(`8x8:a/${DEF}`) ?? { provider: "inkit", listing: "runs" })).toBe(
      `8x8:a/${DEF}`,
    );
  });

  it("keeps the feed's own spelling: exactly `inkit` or an 8x8 definition", () => {
    expect(parseFeedSource(" inkit ")).toEqual({ provider: "inkit", listing: "runs" });
    expect(parseFeedSource("inkit:runs")).toBeNull();
    expect(feedSourceName({ provider: "inkit", listing: "runs" })).toBe("inkit");
    expect(canonicalFeedSources(["inkit", `8x8:a/${DEF.toUpperCase()}`, "inkit"], "query")).toEqual([
      "inkit",
      `8x8:a/${DEF}`,
    ]);
    expect(() => canonicalFeedSources(["inkit:runs"], "query")).toThrow(/Each source must be/);
  });

  it("reads DEFAULT_SOURCES once for both uses: the feed's defaults and new endpoints' 8x8 sources", () => {
    expect(defaultFeedSources(env())).toEqual(["inkit"]);
    expect(defaultFeedSources(env(`inkit,8x8:a/${DEF}`))).toEqual(["inkit", `8x8:a/${DEF}`]);
    expect(() => defaultFeedSources(env("nope"))).toThrow(/DEFAULT_SOURCES is misconfigured/);
    expect(defaultWatchedSources(env())).toEqual(["inkit:runs", "inkit:workflow-batches", "inkit:batches"]);
    expect(defaultWatchedSources(env(`inkit, 8x8:a/${DEF.toUpperCase()},nope`))).toEqual([
      "inkit:runs",
      "inkit:workflow-batches",
      "inkit:batches",
      `8x8:a/${DEF}`,
    ]);
  });

  it("builds the request schemas' patterns from the parser's parts", () => {
    const feed = new RegExp(FEED_SOURCE_PATTERN);
    const key = new RegExp(SOURCE_KEY_PATTERN);
    const input = new RegExp(SOURCE_KEY_INPUT_PATTERN);
    expect([feed.test("inkit"), feed.test("inkit:runs"), feed.test(`8x8:a/${DEF}`)]).toEqual([true, false, true]);
    expect([key.test("inkit"), key.test("inkit:runs"), key.test(`8x8:a/${DEF}`)]).toEqual([false, true, true]);
    expect([input.test("inkit"), input.test("inkit:batches"), input.test("inkit:all")]).toEqual([true, true, false]);
  });
});
