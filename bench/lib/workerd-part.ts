import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runToEnd } from "../../scripts/proc";
import { ROOT } from "./stack";

/** A bench part that runs inside workerd: its vitest config, and the env var naming the file it posts figures to. */
interface WorkerdPart {
  /** Names the part in the error a failed run throws, e.g. "hot-path". */
  label: string;
  config: string;
  outVar: string;
  outFile: string;
  timeoutMs: number;
}

/**
 * Runs a part's vitest config (the tests' workerd pool, never part of `npm test`) and reads the figures it posted
 * back, with the run's wall time.
 */
export async function runWorkerdPart<F>(dir: string, part: WorkerdPart): Promise<F & { wallMs: number }> {
  const out = join(dir, part.outFile);
  rmSync(out, { force: true });
  const run = await runToEnd(
    join(ROOT, "node_modules/.bin/vitest"),
    ["run", "--config", part.config, "--reporter=dot"],
    { cwd: ROOT, env: { ...process.env, [part.outVar]: out, NO_COLOR: "1" }, timeoutMs: part.timeoutMs },
  );
  if (run.code !== 0 || !existsSync(out)) {
    throw new Error(`the ${part.label} bench failed (${run.code}):\n${(run.stdout + run.stderr).slice(-3000)}`);
  }
  return { ...(JSON.parse(readFileSync(out, "utf8")) as F), wallMs: Math.round(run.ms) };
}
