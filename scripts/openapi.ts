// Writes openapi/openapi.json from the route schemas, and the TypeScript client's types from it;
// with --check, fails when either committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";
import { createApp } from "../src/app";
import { buildOpenApiDocument } from "../src/openapi/document";

const root = join(import.meta.dirname, "..");
const document = buildOpenApiDocument(createApp());
const files = [
  { path: join(root, "openapi", "openapi.json"), text: `${JSON.stringify(document, null, 2)}\n` },
  {
    path: join(root, "clients", "typescript", "src", "schema.ts"),
    text: `${COMMENT_HEADER}${astToString(await openapiTS(JSON.parse(JSON.stringify(document))))}`,
  },
];

if (process.argv.includes("--check")) {
  const stale = files.filter(({ path, text }) => {
    try {
      return readFileSync(path, "utf8") !== text;
    } catch {
      return true;
    }
  });
  for (const { path } of stale) console.error(`${path} is stale: run \`npm run openapi\` and commit the result.`);
  if (stale.length > 0) process.exit(1);
  console.log("openapi/openapi.json and the client's types are up to date.");
} else {
  for (const { path, text } of files) {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
