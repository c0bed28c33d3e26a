// 4. Size and start: the deploy bundle (`wrangler deploy --dry-run --outdir`), gzipped, and the worker's startup
// phase as profiled by `wrangler check startup` (global scope evaluation in local workerd, under the profiler).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { runToEnd } from "../scripts/proc";
import { ROOT } from "./lib/stack";

const wrangler = join(ROOT, "node_modules/.bin/wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" };

export interface BundleResult {
  files: { name: string; bytes: number; gzipBytes: number }[];
  /** The worker's modules (source maps excluded), raw and gzipped with zlib's default level. */
  bytes: number;
  gzipBytes: number;
  /** What wrangler itself reports ("Total Upload: … / gzip: …"), in KiB. */
  wranglerTotalKiB: number | null;
  wranglerGzipKiB: number | null;
  buildMs: number;
}

export async function measureBundle(dir: string): Promise<BundleResult> {
  const outdir = join(dir, "bundle");
  const run = await runToEnd(wrangler, ["deploy", "--dry-run", `--outdir=${outdir}`], {
    cwd: ROOT,
    env,
    timeoutMs: 120_000,
  });
  if (run.code !== 0) throw new Error(`wrangler deploy --dry-run failed (${run.code}):\n${run.stderr || run.stdout}`);
  const reported = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(run.stdout);
  const files = readdirSync(outdir)
    .filter((name) => /\.(m?js|wasm)$/.test(name) && statSync(join(outdir, name)).isFile())
    .map((name) => {
      const content = readFileSync(join(outdir, name));
      return { name, bytes: content.length, gzipBytes: gzipSync(content).length };
    });
  return {
    files,
    bytes: files.reduce((a, f) => a + f.bytes, 0),
    gzipBytes: files.reduce((a, f) => a + f.gzipBytes, 0),
    wranglerTotalKiB: reported ? Number(reported[1]) : null,
    wranglerGzipKiB: reported ? Number(reported[2]) : null,
    buildMs: Math.round(run.ms),
  };
}

export interface StartupProfile {
  /** endTime − startTime of the startup CPU profile. */
  profileSpanMs: number;
  /** Sampled time not idle (JS, GC, compile) within it. */
  busyMs: number;
  wallMs: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export async function profileStartup(dir: string): Promise<StartupProfile | { error: string }> {
  const outfile = join(dir, "worker-startup.cpuprofile");
  const run = await runToEnd(wrangler, ["check", "startup", `--outfile=${outfile}`], {
    cwd: ROOT,
    env,
    timeoutMs: 120_000,
  });
  if (run.code !== 0) return { error: `wrangler check startup failed (${run.code})` };
  const profile = JSON.parse(readFileSync(outfile, "utf8")) as CpuProfile;
  const names = new Map(profile.nodes.map((n) => [n.id, n.callFrame.functionName]));
  // timeDeltas[i] is the time from sample i-1 to sample i; sample i lasts until sample i+1.
  let busy = 0;
  profile.samples.forEach((id, i) => {
    if (names.get(id) !== "(idle)") busy += profile.timeDeltas[i + 1] ?? 0;
  });
  return {
    profileSpanMs: Math.round((profile.endTime - profile.startTime) / 100) / 10,
    busyMs: Math.round(busy / 100) / 10,
    wallMs: Math.round(run.ms),
  };
}
