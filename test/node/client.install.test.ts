// The typed client installed the way its README says, as a new user would: packed (which builds dist/), installed
// into an empty project, imported by its package name, and walked against the worker under `wrangler dev`.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, inject, it } from "vitest";

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL("../../clients/typescript", import.meta.url));
const npm = (args: string[], cwd: string) => run("npm", [...args, "--no-audit", "--no-fund"], { cwd });

let project: string;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), "tributary-client-"));
  await npm(["pack", "--pack-destination", project], CLIENT);
  const tarball = readdirSync(project).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error("npm pack wrote no tarball");
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "new-user", private: true, type: "module" }));
  await npm(["install", `./${tarball}`], project);
}, 180_000);

afterAll(() => rmSync(project, { recursive: true, force: true }));

it("installs from its packed tarball, imports as the README shows, and walks a listing to its end", async () => {
  // The README's import and walk, with a listing small enough to walk whole.
  writeFileSync(
    join(project, "walk.mjs"),
    `import { createTributaryClient, paginate } from "@tributary/client";
const [baseUrl, apiKey] = process.argv.slice(2);
const client = createTributaryClient({ baseUrl, apiKey });
const ids = [];
for await (const batch of paginate(client, "/v1/inkit/workflow-batches", { params: { query: { limit: 40 } } })) {
  ids.push(batch.id);
}
console.log(JSON.stringify(ids));
`,
  );
  const { stdout } = await run("node", ["walk.mjs", inject("workerUrl"), inject("apiKey")], { cwd: project });
  const walked = JSON.parse(stdout) as string[];

  const dump = await fetch(`${inject("inkitUrl")}/__admin/items?kind=workflow_batch`);
  const truth = ((await dump.json()) as { items: { id: string }[] }).items.map((b) => b.id);
  expect(truth.length).toBeGreaterThan(40);
  expect(new Set(walked)).toEqual(new Set(truth));
  expect(walked).toHaveLength(truth.length);
}, 60_000);
