import { afterEach, describe, expect, it } from "vitest";
import { upstreamBodySchemas } from "../../src/providers/validate/targets";
import * as generated from "../../src/providers/validate/upstream.gen.js";
import source from "../../src/providers/validate/upstream.gen.js?raw";
import * as seeds from "../fixtures/seeds";

// Workers forbid code generation from strings in production; the generated validators must not need it.

// Reached by name so the disabling below reads plainly; nothing here evaluates a string.
const scope = globalThis as unknown as Record<"eval" | "Function", unknown>;
const realEval = scope.eval;
const realFunction = globalThis.Function;
afterEach(() => {
  scope.eval = realEval;
  scope.Function = realFunction;
});

describe("generated upstream validators need no code generation at run time (no simulator)", () => {
  it("their source neither evaluates strings nor reaches for the Function constructor", () => {
    expect(source.length).toBeGreaterThan(1000);
    expect(source).not.toMatch(
      /\beval\b|\bFunction\s*\(|new\s+Function|\.constructor\s*\(|\bimport\s*\(|\brequire\s*\(/,
    );
    // Its only import is the timestamp check it shares with the zod schemas.
    expect(source.match(/^import .*$/gm)).toEqual([`import { isIso8601 } from "../../shared/time";`]);
  });

  it("answer with eval and new Function disabled, as in production", () => {
    const refuse = () => {
      throw new EvalError("Code generation from strings disallowed for this context");
    };
    scope.eval = refuse;
    scope.Function = new Proxy(realFunction, { apply: refuse, construct: refuse });
    expect(() => new Function("return 1")).toThrow(EvalError);

    expect(generated.inkitRunList(structuredClone(seeds.inkitRunsPage))).toBe(true);
    expect(generated.inkitBatchList(structuredClone(seeds.inkitWorkflowBatchesPage))).toBe(true);
    expect(generated.inkitBatch(structuredClone(seeds.inkitDocumentBatch))).toBe(true);
    expect(generated.eightByEightList(structuredClone(seeds.eightByEightInstances))).toBe(true);
    expect(generated.eightByEightList([{ ...seeds.eightByEightInstances[0], startedAt: "yesterday" }])).toBe(false);
    expect(generated.inkitBatch({})).toBe(false);
    expect(Object.keys(generated).sort()).toEqual(Object.keys(upstreamBodySchemas).sort());
  });
});
