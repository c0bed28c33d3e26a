// Child processes of the bench and of the Node-side tests (test/node): each one leads its own process group, so
// stopping it also stops what it started (wrangler dev → workerd). Every child is stopped on exit, on failure and on
// SIGINT/SIGTERM.
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { createServer } from "node:net";

const children = new Set<ChildProcess>();

/** Spawns a child in its own process group and tracks it until it exits. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Stops one child's process group: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    signalGroup(child, "SIGKILL"); // grandchildren may outlive their parent
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signalGroup(child, "SIGTERM");
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs).unref());
  if ((await Promise.race([exited, timer])) === "timeout") signalGroup(child, "SIGKILL");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
  signalGroup(child, "SIGKILL");
}

/** Stops every tracked child. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child)));
}

let installed = false;

/** Stops every child on any way out of the process. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  // Last resort, synchronous: exit handlers cannot wait.
  process.on("exit", () => {
    for (const child of children) signalGroup(child, "SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping child processes`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

/** A free TCP port on loopback (bound and released; the caller binds it right away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

/** Resolves with the first stdout line that `match` accepts; rejects on exit or after `timeoutMs`. */
export function waitForLine<T>(
  child: ChildProcess,
  match: (line: string) => T | undefined,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => finish(new Error(`no ready line within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const found = match(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        if (found !== undefined) return finish(undefined, found);
        newline = buffer.indexOf("\n");
      }
    };
    const onExit = (code: number | null) => finish(new Error(`exited (${code}) before it was ready`));
    function finish(error: Error | undefined, value?: T) {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** Runs a command to completion (bounded by `timeoutMs`), returning its exit code and output. */
export async function runToEnd(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const child = spawnTracked(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const timer = setTimeout(() => void stopChild(child), options.timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  signalGroup(child, "SIGKILL");
  return { code, stdout, stderr, ms: performance.now() - started };
}

/** A simulator pair in a process of its own, and the child process that serves it. */
export interface SimulatorProcess {
  inkitUrl: string;
  eightByEightUrl: string;
  child: ChildProcess;
}

/**
 * Runs a script (under tsx, from `cwd`) that starts a simulator pair and prints `{"inkitUrl","eightByEightUrl"}` on
 * one line when ready, and keeps it running while stdin stays open. Stops the child if it never gets ready.
 */
export async function startSimulatorProcess(script: string, cwd: string): Promise<SimulatorProcess> {
  const child = spawnTracked(process.execPath, ["--import", "tsx", script], {
    cwd,
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    const urls = await waitForLine(
      child,
      (line) => {
        try {
          return JSON.parse(line) as { inkitUrl: string; eightByEightUrl: string };
        } catch {
          return undefined;
        }
      },
      60_000,
    );
    return { ...urls, child };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
