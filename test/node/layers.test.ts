// The layer rules (.dependency-cruiser.cjs, `npm run layers` in .ci/run) fail on an import that points up, type-only
// or not, and pass imports that point down: checked on a small tree of the same shape, written to a temp directory.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` into a new temp project and runs the project's layer rules on it. */
async function cruise(files: Record<string, string>): Promise<{ code: number; out: string }> {
  dir = mkdtempSync(join(tmpdir(), "tributary-layers-"));
  const project = dir;
  const tsconfig = { compilerOptions: { module: "ESNext", moduleResolution: "Bundler", strict: true } };
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify(tsconfig));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }
  const bin = join(ROOT, "node_modules/.bin/depcruise");
  const args = ["src", "simulator", "--config", join(ROOT, ".dependency-cruiser.cjs"), "--output-type", "err"];
  try {
    const { stdout, stderr } = await run(bin, args, { cwd: project });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

const downward = {
  "src/config.ts": "export const limit = 1;\n",
  "src/shared/problem.ts": 'import { limit } from "../config";\nexport const problem = limit;\n',
  "src/paging/order.ts": 'import { problem } from "../shared/problem";\nexport const order = problem;\n',
  "src/http/listing.ts": 'import { order } from "../paging/order";\nexport const listing = order;\n',
  "src/detection/check.ts": "export interface Check { ok: boolean }\n",
  "simulator/server.ts": "export const port = 4010;\n",
};

it("passes a tree whose imports all point down", async () => {
  const { code, out } = await cruise(downward);
  expect(out).toContain("no dependency violations found");
  expect(code).toBe(0);
}, 60_000);

it("fails on an import that points up, a type-only one, and a simulator importing the worker", async () => {
  const { code, out } = await cruise({
    ...downward,
    // paging is below http: a value import up.
    "src/paging/order.ts": 'import { listing } from "../http/listing";\nexport const order = listing;\n',
    // cache is below detection: a type-only import up is refused too.
    "src/cache/caps.ts": 'import type { Check } from "../detection/check";\nexport type Cap = Check;\n',
    "simulator/server.ts": 'import { problem } from "../src/shared/problem";\nexport const port = problem;\n',
  });
  expect(code).not.toBe(0);
  expect(out).toContain("layer-paging: src/paging/order.ts → src/http/listing.ts");
  expect(out).toContain("layer-cache-types: src/cache/caps.ts → src/detection/check.ts");
  expect(out).toContain("simulators-doubt-us: simulator/server.ts → src/shared/problem.ts");
  expect(out).toMatch(/x 3 dependency violations/);
}, 60_000);
