// The simulators' per-credential rate limit (simulator/README.md, "Rate limits"): neither vendor publishes a limit, so
// the simulators do the least convenient thing: a sliding window that refuses the call past it with 429 and a
// `Retry-After` (delta-seconds or an HTTP date), per exact credential string.
import { afterEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_API_KEYS, EIGHT_BY_EIGHT_DEFINITION_IDS, INKIT_API_TOKENS } from "../../simulator/credentials";
import { parseRetryAfter } from "../../src/upstream/retry";
import { eightByEightSim, inkitSim } from "../support/simulator";

const INKIT_RUNS = "/v1/invoke?page=1&page_size=1";
const LISTING = `/api/v1/accounts/acme-ops/definitions/${EIGHT_BY_EIGHT_DEFINITION_IDS.demo.orderNotifications}/workflows?limit=1`;

const inkit = (token: string) => fetch(new URL(INKIT_RUNS, inkitSim.url), { headers: { "X-Inkit-API-Token": token } });
const eightByEight = (key: string) =>
  fetch(new URL(LISTING, eightByEightSim.url), { headers: { Authorization: `Bearer ${key}` } });

afterEach(async () => {
  await Promise.all([inkitSim.reset(), eightByEightSim.reset()]);
});

describe("a per-credential rate limit", () => {
  it("Inkit: the call past the limit gets 429 with Retry-After in seconds; another credential is not limited", async () => {
    const token = INKIT_API_TOKENS.demo;
    await inkitSim.rateLimit({ credential: token, calls: 3, per_seconds: 60 });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await inkit(token)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await inkit(token);
    expect(refused.status).toBe(429);
    const seconds = Number(refused.headers.get("Retry-After"));
    expect(Number.isInteger(seconds)).toBe(true);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    // The same tenant under a credential of its own (`~tag`) is another credential: not limited.
    expect((await inkit(`${token}~other`)).status).toBe(200);
    // Every call is counted, the refused ones too; the limit says how many it refused.
    expect((await inkitSim.counters()).total).toBe(7);
    expect(await inkitSim.rateLimits()).toMatchObject({ refused: 3, limits: [{ credential: token, refused: 3 }] });
  });

  it("8x8: Retry-After as an HTTP date, the time the oldest call leaves the window", async () => {
    const key = EIGHT_BY_EIGHT_API_KEYS.demo;
    await eightByEightSim.rateLimit({ credential: key, calls: 2, per_seconds: 30, retry_after: "http-date" });
    expect((await eightByEight(key)).status).toBe(200);
    expect((await eightByEight(key)).status).toBe(200);
    const refused = await eightByEight(key);
    expect(refused.status).toBe(429);
    const header = refused.headers.get("Retry-After");
    expect(header).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const waitMs = parseRetryAfter(header, Date.now());
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(31_000);
    expect((await refused.json()) as object).toMatchObject({ code: 1429 });
    expect((await eightByEightSim.rateLimits()).refused).toBe(1);
  });

  it("a window that has passed lets calls through again; clearing the limit lifts it", async () => {
    const token = INKIT_API_TOKENS.demo;
    await inkitSim.rateLimit({ credential: token, calls: 1, per_seconds: 0.2 });
    expect((await inkit(token)).status).toBe(200);
    expect((await inkit(token)).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await inkit(token)).status).toBe(200);
    await inkitSim.clearRateLimits();
    expect((await inkit(token)).status).toBe(200);
    expect((await inkit(token)).status).toBe(200);
    expect((await inkitSim.rateLimits()).limits).toEqual([]);
  });
});
