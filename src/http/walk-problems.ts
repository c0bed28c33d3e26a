import type { WalkError } from "../paging/errors";
import { ProblemError, type ProblemType } from "../shared/problem";

const problemFor: Record<WalkError["failure"], ProblemType> = {
  unconfigured: "service-unavailable",
  "invalid-cursor": "invalid-cursor",
  "cursor-expired": "cursor-expired",
};

/** The problem document a walk's failure is answered with: 503 for a missing step, 400 for a bad cursor. */
export function walkProblem(error: WalkError): ProblemError {
  const errors = error.mismatches.map((m) => ({ in: "cursor" as const, name: m.name, message: m.message }));
  return new ProblemError(problemFor[error.failure], {
    detail: error.detail,
    ...(errors.length > 0 ? { errors } : {}),
  });
}
