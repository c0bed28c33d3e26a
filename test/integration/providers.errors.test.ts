import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import { eightByEightClient } from "../../src/providers/eightbyeight/client";
import { EightByEightListSchema } from "../../src/providers/eightbyeight/schemas";
import { ProblemError } from "../../src/shared/problem";
import { expectProblem } from "../support/problem";
import { eightByEightSim, inkitSim, resetSimulators } from "../support/simulator";
import { inkitTruth } from "../support/truth";
import type { PageBody } from "../support/walk";
import { call, callJson, request } from "../support/worker";

const def = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.orderNotifications;
const runs8x8 = `/v1/8x8/accounts/acme-ops/definitions/${def}/runs`;

beforeEach(resetSimulators);

describe("single batch", () => {
  it("returns the normalized document batch", async () => {
    const [truth] = (await inkitSim.items<{ id: string; total: number }>({ kind: "document_batch" })).items;
    const { res, body } = await callJson<{ id: string; kind: string; total: number }>(`/v1/inkit/batches/${truth?.id}`);
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ id: truth?.id, kind: "document_batch", provider: "inkit", total: truth?.total });
  });

  it("an unknown batch is a 404 problem", async () => {
    const problem = await expectProblem(await call("/v1/inkit/batches/rb_doesNotExist000000000"), 404, "not-found");
    expect(problem.upstream).toMatchObject({ provider: "inkit", status: 404 });
  });
});

describe("8x8 documented errors", () => {
  it("an unknown definition (8x8 code 1300) is a 404 carrying the upstream code and error id", async () => {
    const problem = await expectProblem(
      await call("/v1/8x8/accounts/acme-ops/definitions/2aa9465e-dec7-4c3e-8fa6-bd168af9eaca/runs"),
      404,
      "not-found",
    );
    expect(problem.upstream).toMatchObject({ provider: "8x8", status: 404, code: 1300, error_id: expect.any(String) });
  });

  it("8x8 code 1000 (definition id not a UUID) maps to a 400 naming definition_id", async () => {
    const client = eightByEightClient(
      env.EIGHTBYEIGHT_BASE_URL,
      { value: env.EIGHTBYEIGHT_API_KEY, passThrough: false },
      5000,
    );
    const err = await client
      .get("/api/v1/accounts/acme-ops/definitions/not-a-uuid/workflows", {}, EightByEightListSchema)
      .catch((e) => e);
    expect(err).toBeInstanceOf(ProblemError);
    expect(err.type).toBe("validation-error");
    expect(err.init.errors).toEqual([{ in: "path", name: "definition_id", message: "Invalid definition id." }]);
  });
});

describe("upstream credentials", () => {
  it("a caller's own Inkit token is used instead of the configured one", async () => {
    const other = (await inkitTruth("run", { tenant: "other" })).map((r) => r.id);
    const { res, body } = await callJson<PageBody>("/v1/inkit/runs?limit=500", {
      headers: { "X-Inkit-API-Token": "sim_inkit_other_token" },
    });
    expect(res.status).toBe(200);
    expect(body.data.map((r) => r.id)).toEqual(other);
  });

  it("a caller's own credential that the upstream rejects is our 401", async () => {
    const inkit = await call("/v1/inkit/runs", { headers: { "X-Inkit-API-Token": "wrong-token" } });
    const p1 = await expectProblem(inkit, 401, "unauthorized");
    expect(JSON.stringify(p1)).not.toContain("wrong-token");
    await expectProblem(await call(runs8x8, { headers: { "X-8x8-Api-Key": "wrong-key" } }), 401, "unauthorized");
  });

  it("the configured credential rejected upstream is a 502 upstream-auth naming the provider", async () => {
    const problem = await expectProblem(
      await request("/v1/inkit/runs", { env: { INKIT_API_TOKEN: "revoked" } }),
      502,
      "upstream-auth",
    );
    expect(problem.upstream).toMatchObject({ provider: "inkit", status: 401 });
    expect(JSON.stringify(problem)).not.toContain("revoked");
  });
});

describe("upstream failures", () => {
  it("a 5xx is a 502 upstream-error with the upstream's status", async () => {
    await eightByEightSim.fault({ status: 503 });
    const problem = await expectProblem(await call(runs8x8), 502, "upstream-error");
    expect(problem.upstream).toMatchObject({ provider: "8x8", status: 503 });
  });

  it("malformed JSON is a 502 upstream-invalid-response, never garbage passed on", async () => {
    await inkitSim.fault({ malformed: true });
    const problem = await expectProblem(await call("/v1/inkit/runs"), 502, "upstream-invalid-response");
    expect(problem.upstream).toMatchObject({ provider: "inkit" });
  });

  it("a hang is a 504 upstream-timeout after the configured timeout", async () => {
    await inkitSim.fault({ hang: true, times: 1 });
    const problem = await expectProblem(
      await request("/v1/inkit/runs", { env: { UPSTREAM_TIMEOUT_MS: "300" } }),
      504,
      "upstream-timeout",
    );
    expect(problem.upstream).toMatchObject({ provider: "inkit", status: null });
    await inkitSim.clearFaults();
  });
});
