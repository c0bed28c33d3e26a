/** Worker bindings for the test runtime, pointing the worker at the simulators started by globalSetup. */
export const TEST_API_KEY = "trib_test_key_a_0123456789abcdef";
export const TEST_API_KEY_2 = "trib_test_key_b_fedcba9876543210";

export const TEST_WEBHOOK_ENCRYPTION_KEY = "test-webhook-encryption-key-0123456789abcdef";
/** The connections' keyring: `k2` seals, `k1` (an older key) still opens what it sealed. */
export const TEST_CONNECTION_KEYS =
  "k2:test-connection-key-two-0123456789abcdef,k1:test-connection-key-one-0123456789abcdef";
export const TEST_INKIT_WEBHOOK_SECRET = "test-inkit-webhook-secret";
export const TEST_EIGHTBYEIGHT_INBOUND_SECRET = "test-8x8-inbound-secret";

export function testBindings(urls: { inkitUrl: string; eightByEightUrl: string }) {
  return {
    INKIT_BASE_URL: urls.inkitUrl,
    EIGHTBYEIGHT_BASE_URL: urls.eightByEightUrl,
    API_KEYS: `${TEST_API_KEY},${TEST_API_KEY_2}`,
    CURSOR_SECRET: "k2:test-cursor-secret-0123456789abcdef,k1:older-test-secret-0123456789abcdef",
    DEFAULT_SOURCES: "inkit,8x8:acme-ops/3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14",
    INKIT_API_TOKEN: "sim_inkit_demo_token",
    EIGHTBYEIGHT_API_KEY: "sim_8x8_demo_key",
    // Webhooks: the test consumer listens on http://127.0.0.1, which only this relaxation admits.
    ALLOW_INSECURE_WEBHOOK_URLS: "true",
    WEBHOOK_ENCRYPTION_KEY: TEST_WEBHOOK_ENCRYPTION_KEY,
    CONNECTION_ENCRYPTION_KEYS: TEST_CONNECTION_KEYS,
    INKIT_WEBHOOK_SECRET: TEST_INKIT_WEBHOOK_SECRET,
    EIGHTBYEIGHT_INBOUND_SECRET: TEST_EIGHTBYEIGHT_INBOUND_SECRET,
    // Hardening: retries back off by ~1 ms instead of ~200 ms, and request lines are not logged (test/integration/hardening.security.test.ts turns them on).
    UPSTREAM_RETRY_BASE_MS: "1",
    // Upstream accounts' budgets: far beyond anything the suite spends, so only the budget tests (which set tight ones
    // per env) meet them.
    UPSTREAM_ACCOUNT_CALLS_PER_MINUTE: "600000",
    UPSTREAM_ACCOUNT_BURST_SECONDS: "60",
    LOG_LEVEL: "off",
  };
}

/**
 * Rate limiters of the test runtime. The suite sends thousands of requests with two keys, so the deployed
 * limiter is made generous; a tight one (5 per minute) lets test/integration/hardening.ratelimit.test.ts reach the limit.
 */
export const TEST_RATE_LIMITS = {
  RATE_LIMITER: { namespace_id: "7001", simple: { limit: 1_000_000, period: 60 as const } },
  TEST_TIGHT_RATE_LIMITER: { namespace_id: "7002", simple: { limit: 5, period: 60 as const } },
};
