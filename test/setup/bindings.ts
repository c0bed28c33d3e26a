/** Worker bindings for the test runtime, pointing the worker at the simulators started by globalSetup. */
export const TEST_API_KEY = "trib_test_key_a_0123456789abcdef";
export const TEST_API_KEY_2 = "trib_test_key_b_fedcba9876543210";

export function testBindings(urls: { inkitUrl: string; eightByEightUrl: string }) {
  return {
    INKIT_BASE_URL: urls.inkitUrl,
    EIGHTBYEIGHT_BASE_URL: urls.eightByEightUrl,
    API_KEYS: `${TEST_API_KEY},${TEST_API_KEY_2}`,
    CURSOR_SECRET: "k2:test-cursor-secret-0123456789abcdef,k1:older-test-secret-0123456789abcdef",
    INKIT_API_TOKEN: "sim_inkit_demo_token",
    EIGHTBYEIGHT_API_KEY: "sim_8x8_demo_key",
  };
}
