import { describe, expect, it } from "vitest";
import { checkWebhookUrl } from "../../src/delivery/url-safety";

// Refused URLs are checked through the route too, in test/integration/webhooks.security.test.ts.
const ACCEPTED = [
  "https://hooks.example.com/tributary",
  "https://hooks.example.com:8443/x?y=1",
  "https://8.8.8.8/x",
  "https://172.32.0.1/x", // just outside 172.16/12
  "https://100.128.0.1/x", // just outside 100.64/10
  "https://[2606:4700:4700::1111]/x",
];

describe("endpoint URL safety", () => {
  it.each(ACCEPTED)("accepts the public https URL %s", (url) => {
    expect(checkWebhookUrl(url, false)).toMatchObject({ ok: true });
  });

  it("only ALLOW_INSECURE_WEBHOOK_URLS=true admits http and loopback (local development and tests)", () => {
    expect(checkWebhookUrl("http://127.0.0.1:4030/hooks", true)).toMatchObject({ ok: true });
    expect(checkWebhookUrl("http://127.0.0.1:4030/hooks", false)).toMatchObject({ ok: false });
    expect(checkWebhookUrl("ftp://127.0.0.1/", true)).toMatchObject({ ok: false });
  });
});
