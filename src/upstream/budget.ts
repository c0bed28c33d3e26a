/**
 * The isolate's side of the upstream accounts' budgets: tokens granted by each account's `UpstreamBudget` object are
 * held here in batches and spent one per upstream attempt, so a warm isolate pays no round trip per call. A lease runs
 * low → it is topped up in the background; empty → the call waits for a grant. Refused: a listing waits when the grant
 * is near and fits its time, else answers 503 `upstream-budget-exhausted`; a check is deferred when refused before its
 * first call, and waits (within its time) once under way.
 */
import type { BudgetTime } from "../observability/telemetry";
import type { Provider } from "../schemas/sources";
import { sha256Hex } from "../shared/digest";
import { ProblemError } from "../shared/problem";
import type { BudgetGrant, UpstreamBudget } from "./budget-object";
import { type BucketPolicy, type BudgetPriority, bucketPolicy } from "./budget-rules";
import { retryAfterSeconds, sleep } from "./retry";

/** An upstream account: what its budget object is named by, and what problems and telemetry call it. */
export interface BudgetAccount {
  provider: Provider;
  /** The object's name: provider and the credential's identity, hashed; never the credential itself. */
  key: string;
  /** For operators: `configured`, a connection's id, or `caller:<hash prefix>` for a pass-through credential. */
  id: string;
  /** For callers, in a problem's detail: "this deployment's Inkit account", "connection conn_…". */
  label: string;
}

/** What the scope of a request or a check gives the budget: where the objects are, the rules, and who draws. */
export interface BudgetAccess {
  namespace: DurableObjectNamespace<UpstreamBudget> | undefined;
  policy: BucketPolicy;
  /** Tokens one grant asks for. */
  batch: number;
  /** The longest a listing waits for a grant before it answers 503. */
  maxWaitMs: number;
  priority: BudgetPriority;
  /** Keeps a background top-up alive past the response. */
  waitUntil?: (p: Promise<unknown>) => void;
}

/** Budget settings as config holds them. */
interface BudgetConfig {
  upstreamAccountCallsPerMinute: number;
  upstreamAccountBurstSeconds: number;
  upstreamAccountBatch: number;
  upstreamAccountWaitMs: number;
}

/** The scope's access to the budgets of `env`, for `priority`. */
export function budgetAccess(
  env: Env,
  config: BudgetConfig,
  priority: BudgetPriority,
  waitUntil?: (p: Promise<unknown>) => void,
): BudgetAccess {
  return {
    namespace: (env as Partial<Env>).UPSTREAM_BUDGET,
    policy: bucketPolicy(
      config.upstreamAccountCallsPerMinute,
      config.upstreamAccountBurstSeconds,
      config.upstreamAccountBatch,
    ),
    batch: config.upstreamAccountBatch,
    maxWaitMs: config.upstreamAccountWaitMs,
    priority,
    ...(waitUntil ? { waitUntil } : {}),
  };
}

/**
 * How long granted tokens may be spent: long enough that an isolate serving a request every few seconds stays warm
 * (no round trip per request), short enough that an idle one does not hoard the account's calls for long. It does not
 * loosen what the upstream sees: an isolate holds at most about a batch and a half at any moment, so calls in any
 * window stay within the bucket's capacity, its rate over the window, and the batches isolates hold.
 */
const LEASE_TTL_MS = 5_000;

/** A deployment that lacks the binding answers this instead of calling upstreams unbudgeted. */
const MISSING_BUDGET_BINDING =
  'The Durable Object binding `UPSTREAM_BUDGET` is missing: add a `[[durable_objects.bindings]]` entry with `name = "UPSTREAM_BUDGET"` and `class_name = "UpstreamBudget"`, and its `[[migrations]]` entry (`new_sqlite_classes = ["UpstreamBudget"]`), to wrangler.toml (see docs/upstream-budget.md).';

const NAMES: Record<Provider, string> = { inkit: "Inkit", "8x8": "8x8" };

// Hashes of credential values, so a busy isolate hashes each once; bounded, as callers' credentials are unbounded.
const hashes = new Map<string, string>();

/** The account a credential (credential.ts's `Credential`) draws from. */
export async function budgetAccount(
  provider: Provider,
  credential: { value: string; passThrough: boolean; connection?: { id: string } },
): Promise<BudgetAccount> {
  const name = NAMES[provider];
  if (credential.connection) {
    const id = credential.connection.id;
    return { provider, key: `${provider}|conn|${id}`, id, label: `connection ${id}'s ${name} account` };
  }
  let hash = hashes.get(credential.value);
  if (hash === undefined) {
    hash = (await sha256Hex(credential.value)).slice(0, 32);
    if (hashes.size >= 1_000) hashes.clear();
    hashes.set(credential.value, hash);
  }
  return credential.passThrough
    ? {
        provider,
        key: `${provider}|cred|${hash}`,
        id: `caller:${hash.slice(0, 12)}`,
        label: `the ${name} account of the credential sent in your request`,
      }
    : { provider, key: `${provider}|configured|${hash}`, id: "configured", label: `this deployment's ${name} account` };
}

/** Tokens held for one account and priority. */
interface Lease {
  tokens: number;
  expiresAt: number;
  /** No grant can succeed before this (a refusal's or a pause's time): asking sooner would only cost a round trip. */
  notBefore: number;
  paused: boolean;
  refill: Promise<BudgetGrant> | null;
  /** Calls waiting for the refill in flight: the next grant asks for them too. */
  waiting: number;
}

const leases = new Map<string, Lease>();

/**
 * Every account key this isolate has drawn from or paused, never forgotten with its leases: what tests reset between
 * files (resetting every object the runtime ever made grew to seconds per file over a suite).
 */
export const seenAccounts = new Set<string>();

function leaseOf(account: BudgetAccount, priority: BudgetPriority): Lease {
  const key = `${account.key}|${priority}`;
  // Bounded like the leases: callers' own accounts are unbounded, and only tests read this.
  if (seenAccounts.size >= 10_000) seenAccounts.clear();
  seenAccounts.add(account.key);
  let lease = leases.get(key);
  if (!lease) {
    // Callers' own credentials are unbounded: past 1,000 accounts, forget the leases that hold nothing.
    if (leases.size >= 1_000) {
      const now = Date.now();
      for (const [k, l] of leases)
        if (!l.refill && (l.tokens === 0 || l.expiresAt <= now) && l.notBefore <= now) leases.delete(k);
    }
    lease = { tokens: 0, expiresAt: 0, notBefore: 0, paused: false, refill: null, waiting: 0 };
    leases.set(key, lease);
  }
  return lease;
}

/** Asks the account's object for tokens; the one refill in flight per lease is shared by every call that needs it. */
function refill(
  access: BudgetAccess,
  account: BudgetAccount,
  lease: Lease,
  figures: BudgetTime,
  ahead: number,
): Promise<BudgetGrant> {
  if (lease.refill) return lease.refill;
  const namespace = access.namespace as DurableObjectNamespace<UpstreamBudget>;
  const stub = namespace.get(namespace.idFromName(account.key));
  // A batch for the calls waiting, or every call the request expects (less what the lease holds), if that is more.
  const want = Math.min(access.policy.capacity, Math.max(access.batch + lease.waiting, ahead - lease.tokens));
  figures.grants += 1;
  const asked = Promise.resolve(stub.grant({ want, priority: access.priority, policy: access.policy }))
    .then((answer) => {
      const now = Date.now();
      // A pause this isolate met while the grant was in flight wins: its tokens would be spent into a paused account.
      if (answer.granted > 0 && lease.notBefore <= now) {
        lease.tokens += answer.granted;
        lease.expiresAt = now + LEASE_TTL_MS;
        lease.paused = false;
      } else if (answer.granted === 0) {
        lease.notBefore = now + answer.retryAfterMs;
        lease.paused = answer.paused;
      }
      return { granted: answer.granted, retryAfterMs: answer.retryAfterMs, paused: answer.paused };
    })
    .finally(() => {
      lease.refill = null;
    });
  lease.refill = asked;
  return asked;
}

// The grants each invocation's figures have counted as waited for (see `drawToken`).
const awaitedByFigures = new WeakMap<BudgetTime, WeakSet<Promise<BudgetGrant>>>();

function awaitedGrants(figures: BudgetTime): WeakSet<Promise<BudgetGrant>> {
  let awaited = awaitedByFigures.get(figures);
  if (!awaited) {
    awaited = new WeakSet();
    awaitedByFigures.set(figures, awaited);
  }
  return awaited;
}

/** The problem of a listing its account's budget cannot serve in time. */
function budgetExhausted(account: BudgetAccount, retryAfterMs: number, paused: boolean): ProblemError {
  const name = NAMES[account.provider];
  const why = paused
    ? `${name} answered 429 (rate limit exceeded), so every call with ${account.label} is paused`
    : `the upstream request budget of ${account.label} is spent for now (listings come first, but they share it)`;
  return new ProblemError("upstream-budget-exhausted", {
    detail: `This listing cannot be served within its time: ${why}. Retry after the time given.`,
    headers: { "Retry-After": retryAfterSeconds(retryAfterMs) },
    extensions: {
      upstream: { provider: account.provider, status: paused ? 429 : null, code: null, error_id: null },
      budget: { account: account.id, retry_after_ms: Math.ceil(retryAfterMs), paused },
    },
  });
}

/** How long a check waits before it asks again an account's object that could not be reached. */
const UNREACHABLE_DEFERRAL_MS = 5_000;

/**
 * The account's object could not be asked (an error of the platform's, not the upstream's): a listing answers a 503
 * naming the budget, with a short Retry-After, rather than a generic 500 or a call the budget never granted; a check is
 * deferred, as when it is refused.
 */
function unreachable(access: BudgetAccess, account: BudgetAccount, figures: BudgetTime, err: unknown): Error {
  if (access.priority === "detection") {
    figures.deferredMs = Math.max(figures.deferredMs, UNREACHABLE_DEFERRAL_MS);
    return new BudgetDeferral(account, UNREACHABLE_DEFERRAL_MS);
  }
  return new ProblemError("service-unavailable", {
    detail: `The upstream request budget of ${account.label} could not be consulted just now (${err instanceof Error ? err.name : "error"}). Retry after the time given.`,
    headers: { "Retry-After": "1" },
  });
}

/** A check's call that its account's budget refused: the check stops where it is, and is sent again later. */
class BudgetDeferral extends Error {
  constructor(
    readonly account: BudgetAccount,
    readonly retryAfterMs: number,
  ) {
    super(`The upstream request budget of ${account.label} is short: the check continues later.`);
    this.name = "BudgetDeferral";
  }
}

/**
 * Takes one token for a call with `account`, before `deadline`. Resolves once the call may go; throws the
 * listing's 503 problem, or a detection's `BudgetDeferral`, when it may not. Blocking time is added to `figures`.
 */
export async function drawToken(
  access: BudgetAccess,
  account: BudgetAccount,
  deadline: number,
  figures: BudgetTime,
  /** Calls the request expects with this account, this one included (see `expectCall` in scope.ts). */
  ahead = 1,
): Promise<void> {
  if (!access.namespace) throw new ProblemError("deployment-incomplete", { detail: MISSING_BUDGET_BINDING });
  const lease = leaseOf(account, access.priority);
  const started = performance.now();
  // Counted among the lease's waiting calls from its first wait until it holds a token (or gives up): calls woken by a
  // grant too small for them all ask the next one for every call still waiting, not for themselves alone.
  let waiting = false;
  try {
    for (;;) {
      const now = Date.now();
      if (lease.tokens > 0 && lease.expiresAt <= now) lease.tokens = 0;
      if (lease.tokens > 0) {
        lease.tokens -= 1;
        figures.draws += 1;
        // Topped up before it is empty, in the background: a warm isolate's calls never wait on the object.
        if ((lease.tokens <= access.batch / 2 || lease.tokens < ahead - 1) && !lease.refill && lease.notBefore <= now) {
          const background = refill(access, account, lease, figures, ahead - 1).catch(() => undefined);
          access.waitUntil?.(background);
        }
        return;
      }
      if (lease.notBefore <= now) {
        if (!waiting) lease.waiting += 1;
        waiting = true;
        const pending = refill(access, account, lease, figures, ahead);
        // A grant the invocation's calls wait for together is one round trip, however many wait for it.
        const awaited = awaitedGrants(figures);
        if (!awaited.has(pending)) {
          awaited.add(pending);
          figures.roundTrips += 1;
        }
        const answer = await pending.catch((err: unknown) => {
          throw unreachable(access, account, figures, err);
        });
        if (answer.granted > 0 || lease.tokens > 0) continue;
      }
      const retryAfterMs = Math.max(1, lease.notBefore - Date.now());
      // Detection defers a check the budget refuses before its first call; a check under way waits instead (within its
      // time), so that what it has read is not read again by the next one.
      const mayWaitMs =
        access.priority === "listing" ? access.maxWaitMs : figures.draws > 0 ? Number.POSITIVE_INFINITY : -1;
      const fits = performance.now() - started + retryAfterMs <= mayWaitMs && Date.now() + retryAfterMs < deadline;
      if (!fits && access.priority === "detection") {
        figures.deferredMs = Math.max(figures.deferredMs, retryAfterMs);
        throw new BudgetDeferral(account, retryAfterMs);
      }
      if (!fits) {
        figures.refused += 1;
        throw budgetExhausted(account, retryAfterMs, lease.paused);
      }
      await sleep(retryAfterMs);
    }
  } finally {
    if (waiting) lease.waiting -= 1;
    figures.waitMs += performance.now() - started;
  }
}

/**
 * An upstream answered 429 with this account: every isolate stops calling it until `until` (Unix ms). This isolate's
 * leases are dropped at once; the object refuses everyone else's grants until then.
 */
export async function pauseAccount(access: BudgetAccess, account: BudgetAccount, until: number): Promise<void> {
  for (const priority of ["listing", "detection"] as const) {
    const lease = leaseOf(account, priority);
    lease.tokens = 0;
    lease.notBefore = Math.max(lease.notBefore, until);
    lease.paused = true;
  }
  const namespace = access.namespace;
  if (!namespace) return;
  await namespace.get(namespace.idFromName(account.key)).pause({ until, policy: access.policy });
}

/** Forgets every lease: a fresh isolate's state, for tests that count round trips from a cold start. */
export function forgetLeases(): void {
  leases.clear();
}
