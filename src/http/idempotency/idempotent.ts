import type { Context, Next } from "hono";
import { ProblemError } from "../../shared/problem";
import { isoMicros } from "../../shared/time";
import type { AnswerStatements } from "../../storage/answer-statements";
import type { AppEnv, KeyClaim } from "../app-env";
import { keptAnswer, replayAnswer } from "./answer";
import { requestFingerprint } from "./fingerprint";
import {
  claimIdempotencyKey,
  type IdempotencyKeyRef,
  idempotentAnswerStatement,
  recordIdempotentAnswer,
  releaseIdempotencyKey,
} from "./store";

/** How long a key and its answer are kept: a repeat within this replays the answer, a later one runs as new. */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * How long a running request holds its key. One that outlives it is presumed gone (its invocation ended before it
 * could record an answer), and a repeat of the same request may then take the key over and run. Every keyed
 * operation is a few D1 statements and queue sends: far below this.
 */
const IDEMPOTENCY_LOCK_MS = 60_000;

/** `Retry-After` of a 409: a keyed operation normally finishes within a second. */
const IN_USE_RETRY_SECONDS = 1;

/** Attempts at recording an answer: one transient D1 error must not leave the key to a lock that has to expire. */
const RECORD_ATTEMPTS = 3;

type Handler = (c: Context<AppEnv>, next: Next) => unknown;

/**
 * Wraps a POST handler so that it honours `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header), in the
 * manner of `withStorage`: after authentication and input validation, so a bad request is a 400 and claims nothing.
 *
 * Without the header the handler runs as it is. With it, the key (scoped to the caller's API key and the route's
 * operation) is claimed in one D1 round trip, then:
 * - new, or expired after 24 hours: the handler runs; a 2xx answer is kept (encrypted, see `keptAnswer`), anything
 *   else frees the key, since a failed operation wrote nothing. An operation that keeps its answer in its own write
 *   (`keptInWrite`) commits both at once, so no failure between them can make a retry run it again;
 * - kept for the same request (same path parameters and body): the first answer, with `Idempotent-Replayed: true`;
 * - used for another request: 422 `idempotency-key-reused`;
 * - its first request still running: 409 `idempotency-key-in-use` with `Retry-After`.
 *
 * @example .openapi(routes.create, withStorage(["DB"], idempotent(routes.create, handlers.create)))
 */
export function idempotent<H extends Handler>(route: { operationId?: string }, handler: H): H {
  const operation = route.operationId;
  if (!operation) throw new Error("idempotent() needs a route with an operationId: it scopes the keys.");
  const wrapped = async (c: Context<AppEnv>, next: Next) => {
    const key = c.req.header("Idempotency-Key");
    if (key === undefined) return handler(c, next);
    const ref: IdempotencyKeyRef = { tenant: c.get("caller").tenant, operation, key };
    const fingerprint = await requestFingerprint(c);
    const token = crypto.randomUUID();
    const now = Date.now();
    const row = await claimIdempotencyKey(c.env.DB, {
      ...ref,
      fingerprint,
      token,
      now: isoMicros(now),
      lockedUntil: isoMicros(now + IDEMPOTENCY_LOCK_MS),
      expiresAt: isoMicros(now + IDEMPOTENCY_TTL_MS),
    });
    if (row.token === token) return runOnce(c, ref, token, () => handler(c, next));
    if (row.fingerprint !== fingerprint) throw reused(operation);
    if (row.status === null) throw inUse();
    return replayAnswer(c, row);
  };
  return wrapped as unknown as H;
}

/**
 * Runs the operation under a claimed key, then keeps its answer (2xx) or frees the key (anything else). An answer the
 * operation kept in its own write is already committed; freeing never touches a committed answer.
 */
function runOnce(c: Context<AppEnv>, ref: IdempotencyKeyRef, token: string, run: () => unknown): Promise<Response> {
  const claim: KeyClaim = { ref, token, keptInWrite: false };
  c.set("idempotency", claim);
  const work = (async () => {
    let res: Response;
    try {
      res = (await run()) as Response;
    } catch (err) {
      await release(c, ref, token);
      throw err;
    }
    if (res.status < 200 || res.status >= 300) await release(c, ref, token);
    else if (!claim.keptInWrite) await record(c, ref, token, res);
    return res;
  })();
  // Recorded even when the caller hangs up first: a lost answer is exactly what its retry comes to collect.
  try {
    c.executionCtx.waitUntil(work.then(noop, noop));
  } catch {
    // No execution context (the app called directly): nothing outlives the request anyway.
  }
  return work;
}

const noop = () => undefined;

/**
 * The answer of an operation, kept in the operation's own write when the request holds an `Idempotency-Key`: `keep`
 * builds the answer from the write's result (with `respond`) and returns the statement that keeps it, for the write's
 * transaction; `answer` is then what the handler sends. The operation and its kept answer commit together, so a retry
 * replays the answer whatever fails after the commit (a queue send, the invocation itself).
 * @example
 * const reply = answerInWrite(c, (row: FeedRow) => c.json(toFeed(row), 201));
 * await createFeed(c.env.DB, tenant, fields, reply.keep);
 * return reply.answer();
 */
export function answerInWrite<R, A extends Response>(c: Context<AppEnv>, respond: (result: R) => A) {
  let built: A | null = null;
  const keep: AnswerStatements<R> = async (result) => {
    built = respond(result);
    const claim = c.get("idempotency");
    if (claim === undefined) return [];
    const kept = await keptAnswer(c.get("config").webhookEncryptionKey, claim.ref, built);
    claim.keptInWrite = true;
    return [idempotentAnswerStatement(c.env.DB, claim.ref, claim.token, kept)];
  };
  const answer = (): A => {
    if (built === null) throw new Error("answerInWrite: the write never built its answer");
    return built;
  };
  return { keep, answer };
}

async function record(c: Context<AppEnv>, ref: IdempotencyKeyRef, token: string, res: Response): Promise<void> {
  const answer = await keptAnswer(c.get("config").webhookEncryptionKey, ref, res);
  for (let attempt = 1; ; attempt++) {
    try {
      const kept = await recordIdempotentAnswer(c.env.DB, ref, token, answer);
      if (!kept) logTrouble(c, ref, "idempotency claim lost before its answer was kept");
      return;
    } catch (err) {
      // The answer still goes out; the key stays claimed until its lock passes, then a retry runs again.
      if (attempt >= RECORD_ATTEMPTS) return logTrouble(c, ref, "idempotency answer not kept", err);
    }
  }
}

async function release(c: Context<AppEnv>, ref: IdempotencyKeyRef, token: string): Promise<void> {
  try {
    await releaseIdempotencyKey(c.env.DB, ref, token);
  } catch (err) {
    logTrouble(c, ref, "idempotency key not released", err);
  }
}

/** One log line about a key: the operation and request, never the key's answer (it may hold a secret). */
function logTrouble(c: Context<AppEnv>, ref: IdempotencyKeyRef, msg: string, err?: unknown): void {
  c.get("log").error(msg, {
    operation: ref.operation,
    request_id: c.get("requestId") ?? null,
    ...(err === undefined ? {} : { error: err instanceof Error ? err.message.slice(0, 200) : "unknown" }),
  });
}

const reused = (operation: string) =>
  new ProblemError("idempotency-key-reused", {
    detail: `This Idempotency-Key was used within the last 24 hours for another request to ${operation} (another body or path). Send a new key for a new request.`,
    errors: [{ in: "header", name: "idempotency-key", message: "Already used for another request." }],
  });

const inUse = () =>
  new ProblemError("idempotency-key-in-use", {
    detail: `The first request with this Idempotency-Key is still running. Retry with the same key after ${IN_USE_RETRY_SECONDS} s to get its answer.`,
    headers: { "Retry-After": String(IN_USE_RETRY_SECONDS) },
  });
