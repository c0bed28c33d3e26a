import { jsonResponse } from "../shared/env";

/**
 * Inkit documents its status codes but not its error body, so this shape is an
 * assumption: `{"error": {"code": "not_found", "message": "..."}}`.
 */
export function inkitError(status: number, code: string, message: string): Response {
  return jsonResponse(status, { error: { code, message } });
}

const BY_STATUS: Record<number, [code: string, message: string]> = {
  400: ["bad_request", "The request is invalid."],
  401: ["unauthorized", "Missing or invalid API token."],
  403: ["forbidden", "This API token may not access this resource."],
  404: ["not_found", "Resource not found."],
  405: ["method_not_allowed", "Method not allowed."],
  422: ["unprocessable_entity", "The request could not be processed."],
  429: ["rate_limited", "Too many requests. Slow down."],
  500: ["internal_error", "Internal server error."],
  502: ["bad_gateway", "Bad gateway."],
  503: ["service_unavailable", "Service temporarily unavailable."],
  504: ["gateway_timeout", "Gateway timeout."],
};

/** The error Inkit would send for a bare status code (injected faults, unexpected failures). */
export function inkitStatusError(status: number): Response {
  const [code, message] = BY_STATUS[status] ?? [`http_${status}`, `HTTP ${status}.`];
  return inkitError(status, code, message);
}
