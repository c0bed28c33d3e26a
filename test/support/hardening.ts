/** Captures console output (the structured logs) while `fn` runs. */
export async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const original = { log: console.log, warn: console.warn, error: console.error };
  const capture = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  console.log = capture;
  console.warn = capture;
  console.error = capture;
  try {
    return { result: await fn(), lines };
  } finally {
    Object.assign(console, original);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
