import { readFileSync, writeFileSync } from "node:fs";

/**
 * Writes generated files, or with `--check` fails when a committed one differs from what would be generated
 * (CI runs the checks, so a stale generated file never lands).
 */
export function writeOrCheck(files: { path: string; text: string }[], command: string, upToDate: string) {
  if (!process.argv.includes("--check")) {
    for (const { path, text } of files) {
      writeFileSync(path, text);
      console.log(`wrote ${path}`);
    }
    return;
  }
  const stale = files.filter(({ path, text }) => {
    try {
      return readFileSync(path, "utf8") !== text;
    } catch {
      return true;
    }
  });
  for (const { path } of stale) console.error(`${path} is stale: run \`${command}\` and commit the result.`);
  if (stale.length > 0) process.exit(1);
  console.log(upToDate);
}
