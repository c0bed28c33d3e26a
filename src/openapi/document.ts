import type { OpenAPIHono } from "@hono/zod-openapi";
import { description, version } from "../../package.json";
import type { AppEnv } from "../http/app-env";

const config = {
  openapi: "3.1.0",
  info: {
    title: "tributary",
    version,
    description: `${description}\n\nEvery error is an RFC 9457 problem document (\`application/problem+json\`).`,
    license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
  },
  // Every operation needs the API key unless it declares `security: []` (the public meta routes).
  security: [{ bearerAuth: [] }],
  servers: [{ url: "http://127.0.0.1:8787", description: "Local development (`npm start`)" }],
  tags: [
    { name: "Runs", description: "One newest-first feed of runs across providers." },
    { name: "Inkit", description: "Inkit workflow runs and batches, normalized, behind one cursor scheme." },
    { name: "8x8", description: "8x8 Automation workflow instances, normalized, behind the same cursor scheme." },
    {
      name: "Webhooks",
      description:
        "Endpoints that receive signed events (Standard Webhooks) when watched runs and batches appear or change status. The event payloads are under `webhooks`.",
    },
    { name: "Events", description: "The event log of your API key, with every delivery attempt." },
    {
      name: "Inbound",
      description:
        "Pushes from the upstreams that make change detection immediate. Authenticated by their own secrets.",
    },
    { name: "Meta", description: "Health and problem type descriptions. Public." },
  ],
};

/** Adds the bearer scheme and serves the generated document at /openapi.json. */
export function registerOpenApi(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An API key from the deployment's `API_KEYS` secret.",
  });
  app.doc31("/openapi.json", config);
}

/** The OpenAPI 3.1 document, as served at /openapi.json. */
export function buildOpenApiDocument(app: OpenAPIHono<AppEnv>) {
  return app.getOpenAPI31Document(config);
}
