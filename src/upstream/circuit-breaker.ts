/** When an upstream's circuit opens, and for how long. */
export interface BreakerPolicy {
  /** Consecutive failures that open the circuit; 0 never opens it. */
  threshold: number;
  cooldownMs: number;
}

export type Admission =
  | { kind: "closed" }
  /** The cool-down is over: this call is the one probe; its outcome closes or re-opens the circuit. */
  | { kind: "probe" }
  | { kind: "open"; retryAfterMs: number };

/**
 * A circuit breaker for one upstream. Closed, it counts consecutive failed calls; at the threshold it opens
 * and refuses calls for the cool-down; then it lets exactly one probe through (half-open): a success closes
 * it, a failure re-opens it for another cool-down.
 *
 * State lives in the isolate (one breaker per upstream per isolate): each isolate learns on its own, which
 * costs a few failed calls per isolate and needs no storage round trip on the hot path.
 *
 * @example
 * const admission = breaker.admit(policy, Date.now());
 * if (admission.kind === "open") throw unavailable(admission.retryAfterMs);
 */
export class CircuitBreaker {
  #failures = 0;
  /** Unix ms until which the circuit is open; 0 when closed. */
  #openUntil = 0;
  /** Unix ms until which a probe is in flight (a lease, so a lost probe cannot wedge the circuit). */
  #probeUntil = 0;

  admit(policy: BreakerPolicy, now: number): Admission {
    if (policy.threshold === 0 || this.#openUntil === 0) return { kind: "closed" };
    if (now < this.#openUntil) return { kind: "open", retryAfterMs: this.#openUntil - now };
    if (now < this.#probeUntil) return { kind: "open", retryAfterMs: Math.min(1000, this.#probeUntil - now) };
    this.#probeUntil = now + policy.cooldownMs;
    return { kind: "probe" };
  }

  /** The upstream answered (any status but a retryable one): the circuit closes. */
  success(): void {
    this.#failures = 0;
    this.#openUntil = 0;
    this.#probeUntil = 0;
  }

  /** A call failed (network error, timeout, 5xx or 429) after its retries. */
  failure(policy: BreakerPolicy, now: number, admission: Admission): void {
    if (policy.threshold === 0) return;
    if (admission.kind === "probe" || ++this.#failures >= policy.threshold) {
      this.#failures = 0;
      this.#openUntil = now + policy.cooldownMs;
      this.#probeUntil = 0;
    }
  }

  /** A call that says nothing about the upstream's health ended; a probe's slot is freed for the next call. */
  release(admission: Admission): void {
    if (admission.kind === "probe") this.#probeUntil = 0;
  }

  state(now: number): "closed" | "open" | "half-open" {
    if (this.#openUntil === 0) return "closed";
    return now < this.#openUntil ? "open" : "half-open";
  }
}

const breakers = new Map<string, CircuitBreaker>();

/** The breaker of one upstream (a provider at one base URL) in this isolate. */
export function breakerFor(upstream: string): CircuitBreaker {
  let breaker = breakers.get(upstream);
  if (!breaker) {
    breaker = new CircuitBreaker();
    breakers.set(upstream, breaker);
  }
  return breaker;
}

/** Forgets every breaker's state: for tests, which share one isolate. */
export function resetCircuitBreakers(): void {
  breakers.clear();
}
