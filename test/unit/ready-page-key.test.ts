import { describe, expect, it } from "vitest";
import { readyPageKey } from "../../src/http/caching/response-cache";

describe("ready page keys", () => {
  // A request's URL string gives the key its URL would: path and search as URL parses them.
  it.each([
    "http://tributary.local/v1/inkit/runs?limit=50",
    "http://tributary.local/v1/inkit/runs",
    "http://tributary.local/v1/inkit/runs?",
    "https://t.example:8443/v1/runs?cursor=k1.abc_-&limit=5#frag",
    "http://tributary.local/",
    "http://tributary.local/v1/a%20b?q=%2F/x",
  ])("%s", async (href) => {
    const url = new Request(href).url;
    expect(await readyPageKey("t", [undefined, undefined], url)).toBe(
      await readyPageKey("t", [undefined, undefined], new URL(url)),
    );
    expect(await readyPageKey("t", ["secret", undefined], url)).toBe(
      await readyPageKey("t", ["secret", undefined], new URL(url)),
    );
  });
});
