import { describe, expect, it } from "vitest";
import { configIssues, cursorSecretProblem } from "../../src/config";
import { serverTiming } from "../../src/observability/server-timing";
import { MAX_POINTS, Telemetry, withCallContext } from "../../src/observability/telemetry";
import { recordingDataset } from "../support/analytics";

const attempt = (n: number) => ({
  provider: "inkit",
  address: "api.inkit.test",
  status: 200,
  errorType: "",
  durationMs: 3,
  attempt: n,
});

describe("Server-Timing", () => {
  it("names each provider's time and calls, the cache outcome and the total, in the standard's syntax", () => {
    const header = serverTiming(
      new Map([
        ["inkit", { calls: 2, ms: 12.345 }],
        ["8x8", { calls: 1, ms: 4 }],
      ]),
      "miss",
      25.06,
    );
    expect(header).toBe('inkit;dur=12.3;desc="2 calls", 8x8;dur=4;desc="1 call", cache;desc=miss, total;dur=25.1');
  });

  it("without upstream calls it has the cache outcome and the total only", () => {
    expect(serverTiming(new Map(), "hit", 1)).toBe("cache;desc=hit, total;dur=1");
  });

  it("names an upstream account's budget only when the request waited for it", () => {
    const t = new Telemetry();
    const waited = t.budgetOf("8x8", "configured");
    waited.roundTrips = 2;
    waited.waitMs = 804.24;
    t.budgetOf("inkit", "conn_1").draws = 3; // drawn from tokens already granted: no wait
    expect(serverTiming(new Map([["8x8", { calls: 1, ms: 12 }]]), "bypass", 820.5, t.budgets.values())).toBe(
      '8x8;dur=12;desc="1 call", budget;dur=804.2;desc="8x8 account configured: 2 round trips", cache;desc=bypass, total;dur=820.5',
    );
    expect(t.budgetTotals()).toMatchObject({ draws: 3, roundTrips: 2, waitMs: 804.24 });
  });
});

describe("Telemetry", () => {
  it("tags each call with the listing and cache outcome of the read that made it, and a learned cap", async () => {
    const t = new Telemetry();
    await withCallContext({ listing: "inkit:runs", cache: "miss" }, async () => {
      t.record(attempt(1));
      t.record(attempt(2));
    });
    t.record(attempt(1));
    t.learnedCap("inkit:runs", 7);
    expect(t.calls.map((c) => [c.listing, c.cache, c.cap])).toEqual([
      ["inkit:runs", "miss", 0],
      ["inkit:runs", "miss", 7],
      ["", "none", 0],
    ]);
    expect(t.byProvider().get("inkit")).toEqual({ calls: 3, ms: 9 });
  });

  it(`writes at most ${MAX_POINTS} points per invocation, keeping the last for the summary, and counts the rest`, () => {
    const t = new Telemetry();
    for (let i = 1; i <= 300; i++) t.record(attempt(i));
    const ds = recordingDataset();
    let dropped = -1;
    t.flush(ds.binding, (n) => {
      dropped = n;
      return { blobs: ["request"] };
    });
    expect(ds.points).toHaveLength(MAX_POINTS);
    expect(ds.points.at(-1)?.blobs?.[0]).toBe("request");
    expect(dropped).toBe(300 - (MAX_POINTS - 1));
    expect(t.written).toBe(MAX_POINTS);
    // A call after the flush (a background refresh) finds no room left: counted, never thrown.
    t.record(attempt(301));
    expect(ds.points).toHaveLength(MAX_POINTS);
    expect(t.dropped).toBe(dropped + 1);
  });

  it("without a dataset writes nothing", () => {
    const t = new Telemetry();
    t.record(attempt(1));
    t.flush(undefined, () => ({}));
    expect(t.written).toBe(0);
  });
});

describe("configuration rules", () => {
  const env = (vars: Record<string, string>) => vars as unknown as Env;

  it("a var that does not parse is named with its rule and the value used instead", () => {
    const issues = configIssues(
      env({ UPSTREAM_TIMEOUT_MS: "abc", LOG_LEVEL: "verbose", RATE_LIMIT_PERIOD_SECONDS: "30" }),
    );
    expect(issues).toEqual([
      { var: "UPSTREAM_TIMEOUT_MS", problem: '"abc" is not an integer from 100 to 60000', used: 8000 },
      { var: "RATE_LIMIT_PERIOD_SECONDS", problem: '"30" is not 10 or 60', used: 60 },
      { var: "LOG_LEVEL", problem: '"verbose" is not one of debug, info, warn, error, off', used: "info" },
    ]);
  });

  it("valid, unset and empty vars raise nothing", () => {
    expect(configIssues(env({ UPSTREAM_TIMEOUT_MS: "9000", CORS_ORIGINS: "", LOG_LEVEL: " WARN " }))).toEqual([]);
  });

  it("a short secret is reported without its value", () => {
    const issues = configIssues(env({ WEBHOOK_ENCRYPTION_KEY: "short-key", CURSOR_SECRET: "garbage" }));
    expect(issues.map((i) => i.var)).toEqual(["WEBHOOK_ENCRYPTION_KEY", "CURSOR_SECRET"]);
    expect(JSON.stringify(issues)).not.toMatch(/short-key|garbage/);
  });

  it("the 32-byte rule applies to the secret part of each kid:secret pair", () => {
    const s32 = "s".repeat(32);
    expect(cursorSecretProblem(`k1:${s32}`)).toBeNull();
    expect(cursorSecretProblem(s32)).toBeNull();
    expect(cursorSecretProblem(`k1:${s32.slice(1)}`)).toMatch(/key k1 is shorter than 32 bytes/);
    // The key id does not count toward the 32 bytes.
    expect(cursorSecretProblem(`k1234567:${"s".repeat(28)}`)).toMatch(/key k1234567/);
    expect(cursorSecretProblem(`k2:${s32},k1:short`)).toMatch(/key k1 /);
    expect(cursorSecretProblem(undefined)).toBeNull();
  });
});
