import type { Hook, z } from "@hono/zod-openapi";
import { type FieldError, ProblemError } from "../shared/problem";
import type { AppEnv } from "./app-env";

const targetToLocation: Record<string, FieldError["in"]> = {
  query: "query",
  param: "path",
  header: "header",
  json: "body",
  form: "body",
  cookie: "header",
};

/** Flattens zod issues into one entry per offending field. */
function fieldErrors(where: FieldError["in"], error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    // An unknown key inside an object (`credentials.api_key`) is named with the path to it, as every other field is.
    const nameOf = (path: PropertyKey[]) => path.map(String).join(".") || "(root)";
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        in: where,
        name: nameOf([...issue.path, key]),
        message: "Unknown parameter.",
      }));
    }
    return [{ in: where, name: nameOf(issue.path), message: issue.message }];
  });
}

/** Builds the one 400 problem used for every invalid input. */
export function validationProblem(errors: FieldError[]): ProblemError {
  const detail = errors.map((e) => `${e.in} parameter ${e.name}: ${e.message}`).join("; ");
  return new ProblemError("validation-error", { detail, errors });
}

/** The router-wide validation hook: any failed request schema becomes a 400 problem. */
// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every input shape.
export const defaultHook: Hook<any, AppEnv, any, any> = (result) => {
  if (!result.success) {
    throw validationProblem(fieldErrors(targetToLocation[result.target] ?? "query", result.error));
  }
};
