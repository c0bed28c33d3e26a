import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import type { SimulatorEnv } from "./shared/env";

/** A hung request is answered (504) after this long if the client has not given up first. */
const HANG_LIMIT_MS = 120_000;

/** What `POST /__admin/faults` accepts. Unknown keys are rejected so a typo cannot silently do nothing. */
export const faultSpecSchema = z
  .strictObject({
    /** Substring of the request path; all emulated routes when absent. */
    route: z.string().min(1).optional(),
    latency_ms: z.number().int().min(0).max(HANG_LIMIT_MS).optional(),
    status: z.number().int().min(400).max(599).optional(),
    /** Seconds, sent as Retry-After. Alone it implies status 429. */
    retry_after: z.number().int().min(0).optional(),
    malformed: z.boolean().optional(),
    hang: z.boolean().optional(),
    page_size_cap: z.number().int().min(1).optional(),
    /** Apply to the next N matching requests only. */
    times: z.number().int().min(1).optional(),
    /** Let the first N matching requests through untouched (a fault halfway through a long read). */
    after: z.number().int().min(1).optional(),
  })
  .refine(
    (spec) =>
      spec.latency_ms !== undefined ||
      spec.status !== undefined ||
      spec.retry_after !== undefined ||
      spec.malformed === true ||
      spec.hang === true ||
      spec.page_size_cap !== undefined,
    { message: "give at least one of latency_ms, status, retry_after, malformed, hang, page_size_cap" },
  );

type FaultSpec = z.infer<typeof faultSpecSchema>;

interface Fault extends FaultSpec {
  id: string;
  /** Uses left, or null for unlimited. */
  remaining: number | null;
  /** Matching requests still to let through before it applies. */
  waiting: number;
  /** Requests this fault has applied to. */
  hits: number;
}

/** The combined effect of every fault that matched one request. */
interface AppliedFaults {
  latencyMs: number;
  hang: boolean;
  status: { code: number; retryAfter: number | undefined } | undefined;
  malformed: boolean;
  pageSizeCap: number | undefined;
}

/** Active faults of one simulator. Faults stack: every matching one applies. */
export class FaultStore {
  #faults: Fault[] = [];
  #nextId = 1;
  #release = new AbortController();

  add(spec: FaultSpec): Fault {
    const fault: Fault = {
      id: `fault_${this.#nextId++}`,
      ...spec,
      remaining: spec.times ?? null,
      waiting: spec.after ?? 0,
      hits: 0,
    };
    this.#faults.push(fault);
    return fault;
  }

  list(): readonly Fault[] {
    return this.#faults;
  }

  remove(id: string): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((fault) => fault.id !== id);
    return this.#faults.length < before;
  }

  /** Removes every fault and lets hung or delayed requests finish. */
  clear(): void {
    this.#faults = [];
    this.releaseWaiting();
  }

  /** Aborted when waiting requests must stop waiting (faults cleared, server closing). */
  get releaseSignal(): AbortSignal {
    return this.#release.signal;
  }

  releaseWaiting(): void {
    this.#release.abort();
    this.#release = new AbortController();
  }

  /** The faults that apply to a request for `path`, using up one of each one's `times`. */
  take(path: string): AppliedFaults | undefined {
    const matching = this.#faults.filter((fault) => {
      if ((fault.route !== undefined && !path.includes(fault.route)) || fault.remaining === 0) return false;
      if (fault.waiting === 0) return true;
      fault.waiting -= 1;
      return false;
    });
    if (matching.length === 0) return undefined;
    for (const fault of matching) {
      fault.hits += 1;
      if (fault.remaining !== null) fault.remaining -= 1;
    }
    const failing = matching.find((fault) => fault.status !== undefined || fault.retry_after !== undefined);
    const caps = matching.flatMap((fault) => (fault.page_size_cap === undefined ? [] : [fault.page_size_cap]));
    return {
      latencyMs: matching.reduce((sum, fault) => sum + (fault.latency_ms ?? 0), 0),
      hang: matching.some((fault) => fault.hang === true),
      status: failing && { code: failing.status ?? 429, retryAfter: failing.retry_after },
      malformed: matching.some((fault) => fault.malformed === true),
      pageSizeCap: caps.length > 0 ? Math.min(...caps) : undefined,
    };
  }
}

/** Builds the vendor's error response for a status code (used for injected statuses and hang timeouts). */
export type VendorErrorResponse = (status: number) => Response;

/**
 * Applies active faults to an emulated route. Order: latency, then hang or
 * status (which answer instead of the handler), then page_size_cap (read by
 * the handler) and malformed (which truncates the handler's body).
 */
export function injectFaults(faults: FaultStore, vendorError: VendorErrorResponse): MiddlewareHandler<SimulatorEnv> {
  return async (c, next) => {
    const applied = faults.take(c.req.path);
    if (applied === undefined) return next();
    const stop = AbortSignal.any([c.req.raw.signal, faults.releaseSignal]);
    if (applied.latencyMs > 0) await pause(applied.latencyMs, stop);
    if (applied.hang) {
      await pause(HANG_LIMIT_MS, stop);
      return vendorError(504);
    }
    if (applied.status !== undefined) {
      const response = vendorError(applied.status.code);
      if (applied.status.retryAfter !== undefined)
        response.headers.set("Retry-After", String(applied.status.retryAfter));
      return response;
    }
    c.set("pageSizeCap", applied.pageSizeCap);
    await next();
    if (applied.malformed) {
      const body = await c.res.text();
      const { status, headers } = c.res;
      // Reset first: assigning over an existing response would merge its headers back in.
      c.res = undefined;
      c.res = new Response(body.slice(0, Math.max(1, Math.floor(body.length / 2))), {
        status,
        headers: { "content-type": headers.get("content-type") ?? "application/json" },
      });
    }
  };
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
