import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { checkWebhookUrl } from "../../src/delivery/url-safety";
import { TEST_API_KEY, TEST_EIGHTBYEIGHT_INBOUND_SECRET, TEST_INKIT_WEBHOOK_SECRET } from "../setup/bindings";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import {
  callApp,
  callAppJson,
  createHookEndpoint,
  hmacHex,
  postInkit,
  resetWebhookStore,
  rows,
  runCron,
  type WebhookEnv,
  webhookEnv,
} from "../support/webhooks";

const DEFINITION = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.smsKeywordRouter;

const REFUSED = [
  "http://hooks.example.com/x", // not https
  "https://localhost/x",
  "https://api.localhost/x",
  "https://127.0.0.1/x",
  "https://127.1/x", // short form of 127.0.0.1
  "https://2130706433/x", // decimal 127.0.0.1
  "https://0x7f000001/x", // hex
  "https://0177.0.0.1/x", // octal
  "https://0.0.0.0/x",
  "https://10.1.2.3/x",
  "https://172.16.0.1/x",
  "https://172.31.255.255/x",
  "https://192.168.1.1/x",
  "https://100.64.0.1/x", // CGNAT
  "https://169.254.169.254/latest/meta-data", // cloud metadata
  "https://[::1]/x",
  "https://[::]/x",
  "https://[::ffff:127.0.0.1]/x", // IPv4-mapped
  "https://[::ffff:169.254.169.254]/x",
  "https://[fd00:ec2::254]/x", // AWS metadata over IPv6
  "https://[fe80::1]/x",
  "https://[fc00::1]/x",
  "https://metadata.google.internal/computeMetadata/v1/",
  "https://metadata/x",
  "https://printer.local/x",
  "https://user:pass@hooks.example.com/x",
  "https://224.0.0.1/x",
  "not a url",
];

/** Counts of every webhook table: "nothing changed" means these are equal. */
async function tableCounts() {
  const tables = ["events", "deliveries", "detection_state", "detection_checks", "watched_items", "webhook_endpoints"];
  return Object.fromEntries(
    await Promise.all(
      tables.map(async (t) => [t, (await rows<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`))[0]?.n] as const),
    ),
  );
}

/** The listing cache's generation keys: an invalidation writes one. */
async function generations() {
  const { keys } = await env.CACHE.list({ prefix: "g1:" });
  return Object.fromEntries(await Promise.all(keys.map(async (k) => [k.name, await env.CACHE.get(k.name)] as const)));
}

const post8x8 = (w: WebhookEnv, json: unknown, secret: string | null) =>
  callApp(w, "/v1/inbound/8x8", {
    method: "POST",
    auth: false,
    json,
    headers: secret === null ? {} : { Authorization: `Bearer ${secret}` },
  });

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

describe("endpoint URL safety", () => {
  it.each(REFUSED)("refuses %s with a 400 naming url", async (url) => {
    const w = webhookEnv({ ALLOW_INSECURE_WEBHOOK_URLS: "false" });
    const problem = await expectProblem(
      await callApp(w, "/v1/webhook-endpoints", { method: "POST", json: { url } }),
      400,
      "validation-error",
    );
    expect(problem.errors).toEqual([{ in: "body", name: "url", message: expect.any(String) }]);
    expect(checkWebhookUrl(url, false).ok).toBe(false);
  });

  it("refuses a private address on PATCH too, and nothing is stored", async () => {
    const w = webhookEnv({ ALLOW_INSECURE_WEBHOOK_URLS: "false" });
    const created = await callAppJson<{ id: string; url: string }>(w, "/v1/webhook-endpoints", {
      method: "POST",
      json: { url: "https://hooks.example.com/x" },
    });
    expect(created.res.status).toBe(201);
    const res = await callApp(w, `/v1/webhook-endpoints/${created.body.id}`, {
      method: "PATCH",
      json: { url: "https://169.254.169.254/" },
    });
    await expectProblem(res, 400, "validation-error");
    const [row] = await rows<{ url: string }>("SELECT url FROM webhook_endpoints WHERE id = ?", created.body.id);
    expect(row?.url).toBe("https://hooks.example.com/x");
  });

  it("a URL refused at delivery time (setting changed since) fails the delivery without a request", async () => {
    const w = webhookEnv();
    const { endpoint } = await createHookEndpoint(w);
    const { body } = await callAppJson<{ event_id: string }>(w, `/v1/webhook-endpoints/${endpoint.id}/test`, {
      method: "POST",
    });
    const strict = webhookEnv({ ALLOW_INSECURE_WEBHOOK_URLS: "false" });
    const { consumeOnce } = await import("../support/webhooks");
    await consumeOnce(strict, w.queue.take());
    const [delivery] = await rows<{ status: string; last_error: string }>(
      "SELECT status, last_error FROM deliveries WHERE event_id = ?",
      body.event_id,
    );
    expect(delivery?.status).toBe("failed");
    expect(delivery?.last_error).toMatch(/^url refused/);
  });
});

describe("inbound Inkit webhook", () => {
  it("a bad or missing signature is a 401 and changes nothing: no upstream call, no event, no invalidation", async () => {
    const w = webhookEnv({}, { cache: true });
    await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    await inkitSim.insert({ kind: "run", count: 2 });
    const before = { tables: await tableCounts(), generations: await generations() };
    await inkitSim.clearCounters();

    const body = JSON.stringify({ event_type: "render.completed", resource_id: "rend_x" });
    const forged = await hmacHex("not-the-secret", body);
    const other = await hmacHex(TEST_INKIT_WEBHOOK_SECRET, `${body} `);
    for (const signature of [null, "", forged, other, "zz", forged.toUpperCase().slice(0, 63)]) {
      const problem = await expectProblem(await postInkit(w, body, signature), 401, "unauthorized");
      expect(problem.detail).toContain("Inkit-Signature");
    }
    // An API key is no substitute for the signature.
    await expectProblem(
      await callApp(w, "/v1/inbound/inkit", { method: "POST", auth: TEST_API_KEY, json: JSON.parse(body) }),
      401,
      "unauthorized",
    );
    expect((await inkitSim.counters()).total).toBe(0);
    expect(await tableCounts()).toEqual(before.tables);
    expect(await generations()).toEqual(before.generations);
    expect(w.queue.sent).toEqual([]);
  });

  it("a good signature invalidates the cached Inkit listings and re-checks now: events without waiting for cron", async () => {
    const w = webhookEnv({}, { cache: true });
    await createHookEndpoint(w, { sources: ["inkit:runs"] });
    await runCron(w);
    const { items } = await inkitSim.insert<{ id: string }>({ kind: "run", count: 1 });
    const before = await generations();

    const body = JSON.stringify({ event_type: "render.completed", resource_id: items[0]?.id, extra: "kept" });
    const res = await postInkit(w, body, await hmacHex(TEST_INKIT_WEBHOOK_SECRET, body));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      accepted: true,
      sources: [
        { source: "inkit:runs", outcome: "checked", events: 1 },
        { source: "inkit:workflow-batches", outcome: "not_watched", events: 0 },
      ],
    });
    expect(await rows("SELECT type, object_id FROM events")).toEqual([
      { type: "run.created", object_id: items[0]?.id },
    ]);
    expect(w.queue.sent.length).toBe(1);
    const after = await generations();
    expect(Object.keys(after).length).toBe(Object.keys(before).length + 2);
  });

  it("a signed body that is not the expected JSON is a 400 (only after the signature checks out)", async () => {
    const w = webhookEnv();
    const body = JSON.stringify({ resource: "x" });
    await expectProblem(
      await postInkit(w, body, await hmacHex(TEST_INKIT_WEBHOOK_SECRET, body)),
      400,
      "validation-error",
    );
    await expectProblem(await postInkit(w, body, "00".repeat(32)), 401, "unauthorized");
  });

  it("a body over 64 KiB is refused before it is verified", async () => {
    const w = webhookEnv();
    const body = JSON.stringify({ event_type: "x", resource_id: "y", pad: "a".repeat(70_000) });
    await expectProblem(
      await postInkit(w, body, await hmacHex(TEST_INKIT_WEBHOOK_SECRET, body)),
      413,
      "payload-too-large",
    );
  });
});

describe("inbound 8x8 notification", () => {
  const source = `8x8:acme-ops/${DEFINITION}`;

  it("a wrong or missing bearer secret is a 401 and changes nothing", async () => {
    const w = webhookEnv({}, { cache: true });
    await createHookEndpoint(w, { sources: [source] });
    await runCron(w);
    await eightByEightSim.insert({ definitionId: DEFINITION, count: 1 });
    const before = { tables: await tableCounts(), generations: await generations() };
    await eightByEightSim.clearCounters();
    const json = { workflowId: "60dbe307fe55d99fc083db61", definitionId: DEFINITION, status: "Complete" };
    for (const secret of [null, "wrong", TEST_API_KEY, `${TEST_EIGHTBYEIGHT_INBOUND_SECRET}x`]) {
      await expectProblem(await post8x8(w, json, secret), 401, "unauthorized");
    }
    expect((await eightByEightSim.counters()).total).toBe(0);
    expect(await tableCounts()).toEqual(before.tables);
    expect(await generations()).toEqual(before.generations);
  });

  it("the right secret re-checks the definition's watched sources at once", async () => {
    const w = webhookEnv();
    await createHookEndpoint(w, { sources: [source] });
    await runCron(w);
    const { items } = await eightByEightSim.insert<{ workflowId: string }>({ definitionId: DEFINITION, count: 1 });
    await eightByEightSim.setStatus({ workflowId: items[0]?.workflowId, status: "Complete" });
    const res = await post8x8(
      w,
      { workflowId: items[0]?.workflowId, definitionId: DEFINITION.toUpperCase(), status: "Complete" },
      TEST_EIGHTBYEIGHT_INBOUND_SECRET,
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true, sources: [{ source, outcome: "checked", events: 2 }] });
    expect((await rows<{ type: string }>("SELECT type FROM events ORDER BY id")).map((e) => e.type)).toEqual([
      "run.created",
      "run.completed",
    ]);
  });
});
