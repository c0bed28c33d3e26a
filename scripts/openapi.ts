// Writes openapi/openapi.json from the route schemas, and the TypeScript client's types from it;
// with --check, fails when either committed file is stale.
import { join } from "node:path";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";
import { createApp } from "../src/app";
import { buildOpenApiDocument } from "../src/openapi/document";
import { writeOrCheck } from "./generated-files";

const root = join(import.meta.dirname, "..");
const document = buildOpenApiDocument(createApp());
const files = [
  { path: join(root, "openapi", "openapi.json"), text: `${JSON.stringify(document, null, 2)}\n` },
  {
    path: join(root, "clients", "typescript", "src", "schema.ts"),
    text: `${COMMENT_HEADER}${astToString(await openapiTS(JSON.parse(JSON.stringify(document))))}`,
  },
];

writeOrCheck(files, "npm run openapi", "openapi/openapi.json and the client's types are up to date.");
