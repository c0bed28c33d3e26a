import { afterEach, describe, expect, it, vi } from "vitest";
import { loggerOf } from "../../src/shared/logger";

afterEach(() => vi.restoreAllMocks());

describe("logger lines", () => {
  // The line is built without copying the fields; its text is still that of the object `{ level, msg, ...fields }`.
  it.each([
    {},
    { method: "GET", path: "/healthz", status: 200, key_id: null, upstream_calls: {}, skipped: undefined },
    { nested: { a: [1, "two"] }, quote: 'say "hi"\n' },
    { level: "shadowed", msg: "also shadowed", other: 1 },
  ])("the same JSON as spreading the fields: %j", (fields) => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    const env = { LOG_LEVEL: "info" } as unknown as Env;
    loggerOf(env).info('request "x"', fields);
    expect(lines).toEqual([JSON.stringify({ level: "info", msg: 'request "x"', ...fields })]);
  });
});
