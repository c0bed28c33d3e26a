import { formatDotNet } from "../data/time";
import { jsonResponse } from "../shared/env";

/**
 * 8x8 error codes. Only 1000 and 1300 are documented; the rest are invented
 * for the simulator and listed in simulator/README.md.
 */
export const ERROR_CODES = {
  invalidDefinitionId: 1000,
  invalidParameter: 1001,
  invalidWorkflowId: 1002,
  unauthorized: 1100,
  definitionNotFound: 1300,
  workflowNotFound: 1301,
} as const;

/** The documented error body: `{code, message, errorId, timestamp}`. */
export function eightByEightError(status: number, code: number, message: string): Response {
  return jsonResponse(status, {
    code,
    message,
    errorId: crypto.randomUUID(),
    timestamp: formatDotNet(Date.now()),
  });
}

const BY_STATUS: Record<number, string> = {
  400: "Bad request.",
  401: "Unauthorized.",
  403: "Forbidden.",
  404: "Resource not found.",
  429: "Too many requests.",
  500: "Internal server error.",
  502: "Bad gateway.",
  503: "Service unavailable.",
  504: "Gateway timeout.",
};

/** For a bare status (injected faults, unknown routes): code 1000 + status, e.g. 1429, 1503 (invented). */
export function eightByEightStatusError(status: number): Response {
  return eightByEightError(status, 1000 + status, BY_STATUS[status] ?? `HTTP ${status}.`);
}
