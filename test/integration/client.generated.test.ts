import createClient from "openapi-fetch";
import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import type { paths } from "../generated/api.d";
import { TEST_API_KEY } from "../setup/bindings";
import { resetSimulators } from "../support/simulator";
import { eightByEightTruth, inkitTruth } from "../support/truth";
import { workerFetch } from "../support/worker";

// The client is generated from the committed openapi/openapi.json (npm run client:generate) on every run:
// if the document and the worker disagree, this test or the type check fails.
const client = createClient<paths>({
  baseUrl: "https://tributary.test",
  headers: { Authorization: `Bearer ${TEST_API_KEY}` },
  fetch: (request) => workerFetch(request),
});

beforeEach(resetSimulators);

describe("a client generated from openapi/openapi.json", () => {
  it("walks the Inkit workflow batches listing to the end", async () => {
    const truth = (await inkitTruth("workflow_batch")).map((b) => b.id);
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const { data, error } = await client.GET("/v1/inkit/workflow-batches", {
        params: { query: { limit: 64, cursor } },
      });
      expect(error).toBeUndefined();
      if (!data) throw new Error("no data");
      for (const batch of data.data) {
        expect(batch.kind).toBe("workflow_batch");
        ids.push(batch.id);
      }
      cursor = data.page.next_cursor ?? undefined;
    } while (cursor);
    expect(ids).toEqual(truth);
  });

  it("walks 8x8 runs and reads typed 8x8 fields", async () => {
    const def = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.smsKeywordRouter;
    const truth = (await eightByEightTruth(def, 1)).map((r) => r.id);
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const { data } = await client.GET("/v1/8x8/accounts/{account_id}/definitions/{definition_id}/runs", {
        params: { path: { account_id: "acme-ops", definition_id: def }, query: { limit: 150, cursor } },
      });
      if (!data) throw new Error("no data");
      for (const run of data.data) {
        expect(run.account_id).toBe("acme-ops");
        ids.push(run.id);
      }
      expect(data.page.total).toBeNull();
      cursor = data.page.next_cursor ?? undefined;
    } while (cursor);
    expect(ids).toEqual(truth);
  });

  it("gets typed problem documents as errors", async () => {
    const { data, error, response } = await client.GET("/v1/inkit/runs", { params: { query: { limit: 9999 } } });
    expect(data).toBeUndefined();
    expect(response.status).toBe(400);
    expect(error?.errors?.[0]?.name).toBe("limit");
  });
});
