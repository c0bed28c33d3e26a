import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { type FieldError, ProblemError } from "../shared/problem";
import type { AppEnv } from "./app-env";
import { validationProblem } from "./validation";

/** Longer URLs are refused (414). The longest valid request (a 4 KiB cursor, a 4,000-character data_id) fits. */
export const MAX_URL_LENGTH = 16 * 1024;

// C0 and C1 control characters, DEL included: no parameter of this API means anything with them, and passed
// on they can make an upstream fail (a 5xx caused by client input) or forge lines in someone's logs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const shown = (name: string) => (CONTROL.test(name) ? JSON.stringify(name).slice(1, -1) : name).slice(0, 64);

/**
 * Screens what route schemas cannot see: the URL's length (414 `uri-too-long`) and control characters in
 * query parameter names or values, once percent-decoded (400 `validation-error` naming each parameter).
 * Duplicate parameters need no rule here: route schemas take single values, so a repeated one is a 400.
 */
export const inputGuard = createMiddleware<AppEnv>(async (c, next) => {
  const url = c.req.url;
  if (url.length > MAX_URL_LENGTH) {
    throw new ProblemError("uri-too-long", {
      detail: `The request URL is longer than ${MAX_URL_LENGTH} characters.`,
    });
  }
  if (mayHoldControlCharacters(url)) screenQuery(c);
  await next();
});

/**
 * Whether a request URL's query may decode to control characters. A parsed URL percent-encodes every control
 * character of its query (WHATWG URL: C0 controls, DEL and all non-ASCII), so only a `%` escape can decode to one.
 */
function mayHoldControlCharacters(url: string): boolean {
  const query = url.indexOf("?");
  return query !== -1 && url.indexOf("%", query) !== -1;
}

/** Throws the 400 naming each query parameter whose name or value holds a control character, once decoded. */
function screenQuery(c: Context<AppEnv>): void {
  const errors: FieldError[] = Object.entries(c.req.queries())
    .filter(([name, values]) => CONTROL.test(name) || values.some((v) => CONTROL.test(v)))
    .map(([name]) => ({ in: "query", name: shown(name), message: "Contains control characters." }));
  if (errors.length > 0) throw validationProblem(errors);
}
