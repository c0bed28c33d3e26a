// Writes openapi/openapi.json from the route schemas; with --check, fails when the committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "../src/app";
import { buildOpenApiDocument } from "../src/openapi/document";

const file = join(import.meta.dirname, "..", "openapi", "openapi.json");
const generated = `${JSON.stringify(buildOpenApiDocument(createApp()), null, 2)}\n`;

if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(file, "utf8");
  } catch {}
  if (committed !== generated) {
    console.error("openapi/openapi.json is stale: run `npm run openapi` and commit the result.");
    process.exit(1);
  }
  console.log("openapi/openapi.json is up to date.");
} else {
  writeFileSync(file, generated);
  console.log(`wrote ${file}`);
}
