// `npm run webhook-consumer`: a sample webhook consumer on http://127.0.0.1:4030 that verifies every delivery with
// the `standardwebhooks` package and prints it.
//
// Demo, three steps (each in its own terminal):
//   1. npm start
//   2. npm run webhook-consumer
//      It registers itself as an endpoint watching every Inkit source (POST /v1/webhook-endpoints with the demo API
//      key from .dev.vars, replacing its earlier registration), keeps the secret it is given, and waits for events.
//   3. Change something upstream through the simulator's admin API, e.g. insert a run, then complete it:
//      curl -s -X POST http://127.0.0.1:4010/__admin/insert -H 'content-type: application/json' -d '{"kind":"run","count":1}'
//      curl -s -X POST http://127.0.0.1:4010/__admin/status -H 'content-type: application/json' \
//        -d '{"id":"<the rend_… id the insert printed>","status":"Completed"}'
//   Within one detection tick (10 s under `npm start`) the consumer prints run.created, then run.status_changed and
//   run.completed, each marked "verified", with the time from detection to delivery. Deliveries can arrive out of
//   order (retries, replays, concurrency): an event whose `sequence` is not above the highest applied for its object
//   is acknowledged but printed as "stale, dropped" and not applied (see scripts/event-order.ts). POSTing {"event_type","resource_id"} to
//   /v1/inbound/inkit with Inkit-Signature (hex HMAC-SHA256 with INKIT_WEBHOOK_SECRET) skips the wait for the tick.
//
// Options: CONSUMER_PORT (4030), TRIBUTARY_URL (http://127.0.0.1:8787), TRIBUTARY_API_KEY (first of API_KEYS in
// .dev.vars), WEBHOOK_SECRET (skip registration and verify with this secret), SOURCES (comma list, default all Inkit).
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { EventOrder, type OrderedEvent } from "./event-order";

const port = Number(process.env.CONSUMER_PORT ?? 4030);
const tributary = process.env.TRIBUTARY_URL ?? "http://127.0.0.1:8787";
const devVars = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
const apiKey = process.env.TRIBUTARY_API_KEY ?? /^API_KEYS="?([^,"\n]+)/m.exec(devVars)?.[1];
const sources = (process.env.SOURCES ?? "inkit:runs,inkit:workflow-batches,inkit:batches").split(",");

const hookUrl = `http://127.0.0.1:${port}/webhooks`;

/** Registers this consumer as an endpoint (replacing an earlier registration of the same URL); returns its secret. */
async function register(): Promise<string> {
  if (process.env.WEBHOOK_SECRET) return process.env.WEBHOOK_SECRET;
  if (!apiKey) throw new Error("No API key: set TRIBUTARY_API_KEY or run `npm start` once to create .dev.vars.");
  const headers = { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" };
  const existing = (await (await fetch(`${tributary}/v1/webhook-endpoints?limit=500`, { headers })).json()) as {
    data?: { id: string; url: string }[];
  };
  for (const old of existing.data ?? []) {
    if (old.url === hookUrl) await fetch(`${tributary}/v1/webhook-endpoints/${old.id}`, { method: "DELETE", headers });
  }
  const res = await fetch(`${tributary}/v1/webhook-endpoints`, {
    method: "POST",
    headers,
    body: JSON.stringify({ url: hookUrl, sources, description: "npm run webhook-consumer" }),
  });
  const body = (await res.json()) as { id?: string; secret?: string; detail?: string };
  if (res.status !== 201 || !body.secret) throw new Error(`registration failed (${res.status}): ${body.detail ?? ""}`);
  console.log(`registered endpoint ${body.id} for ${sources.join(", ")}`);
  return body.secret;
}

const webhook = new Webhook(await register());
const order = new EventOrder();
let received = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v ?? "")]));
    try {
      const event = webhook.verify(body, headers) as OrderedEvent & {
        timestamp: string;
        data: { object: { endpoint_id?: string; status?: string; provider_status?: string } };
      };
      const lagMs = Date.now() - Date.parse(event.timestamp);
      const object = event.data.object;
      received += 1;
      // Acknowledged either way: a stale event was received fine, it just must not overwrite a newer state.
      const verdict = order.accept(event);
      const seq = event.sequence === undefined ? "" : ` seq ${event.sequence}`;
      console.log(
        `#${received} verified ${headers["webhook-id"]} ${event.type}${seq} ${object.id ?? object.endpoint_id ?? ""} ` +
          `${object.status ?? ""}${object.provider_status ? ` (${object.provider_status})` : ""} ` +
          (verdict === "stale" ? "stale, dropped" : `detected→delivered ${lagMs} ms`),
      );
      res.writeHead(204).end();
    } catch (err) {
      console.error(`REJECTED ${headers["webhook-id"] ?? "(no id)"}: ${String(err)}`);
      res.writeHead(400).end();
    }
  });
});

server.listen(port, "127.0.0.1", () => console.log(`webhook consumer listening on ${hookUrl}`));
