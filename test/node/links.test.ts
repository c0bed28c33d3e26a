// The markdown link check (`npm run links`, scripts/check-links.ts) run on small fixture trees: it passes on a clean
// tree, and on a tree with one missing file and one missing anchor it reports exactly those two and exits non-zero.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` into a fresh temporary directory (not a git checkout, so every `*.md` under it is checked). */
function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "links-"));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function check(root: string) {
  const run = spawnSync(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "scripts/check-links.ts"), "--root", root], {
    encoding: "utf8",
  });
  const reported = run.stderr.split("\n").filter((line) => /^\S+:\d+: /.test(line));
  return { status: run.status, reported, stdout: run.stdout };
}

const guide = [
  "# Guide",
  "",
  "## Set up",
  "",
  "## Set up",
  "",
  "## What's new? (`v2`)",
  "",
  "```md",
  "## Not a heading",
  "```",
  "",
].join("\n");

// Every link here resolves, or is one the check must skip: external, in a code block, in inline code.
const cleanReadme = [
  "# Fixture",
  "",
  "## Quick start",
  "",
  "See [the guide](docs/guide.md), [its set-up](docs/guide.md#set-up), [the second set-up](docs/guide.md#set-up-1),",
  "[what is new](docs/guide.md#whats-new-v2), [the start](#quick-start), [the docs folder](docs/) and",
  '![a picture](docs/picture.png "title").',
  "",
  "External links are not fetched: [a site](https://example.com/missing), [mail](mailto:someone@example.com).",
  "Inline code is not a link: `[x](missing.md)`.",
  "",
  "```sh",
  "echo '[x](missing.md)'",
  "```",
  "",
].join("\n");

const cleanTree = { "README.md": cleanReadme, "docs/guide.md": guide, "docs/picture.png": "" };

describe("npm run links", () => {
  it("passes on a tree whose links all resolve", () => {
    const { status, reported, stdout } = check(fixture(cleanTree));
    expect(reported).toEqual([]);
    expect(status).toBe(0);
    expect(stdout).toContain("relative links in 2 markdown files resolve");
  });

  it("reports exactly a missing file and a missing anchor, and fails", () => {
    const readme = `${cleanReadme}[gone](docs/gone.md) and [no such heading](docs/guide.md#not-there).\n`;
    const line = readme.split("\n").length - 1;
    const { status, reported } = check(fixture({ ...cleanTree, "README.md": readme }));
    expect(reported).toEqual([
      `README.md:${line}: docs/gone.md (no such file)`,
      `README.md:${line}: docs/guide.md#not-there (no heading #not-there in docs/guide.md)`,
    ]);
    expect(status).toBe(1);
  });
});
