import { readFileSync } from "node:fs";

/** The KEY="value" lines of `.dev.vars.example` under `root`: the secrets the bench parts inside workerd run with. */
export function exampleDevVars(root: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`${root}/.dev.vars.example`, "utf8")
      .split("\n")
      .map((line) => /^([A-Z][A-Z0-9_]*)="?([^"]*)"?\s*$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] as string, m[2] as string]),
  );
}
