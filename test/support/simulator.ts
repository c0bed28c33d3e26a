import { env } from "cloudflare:workers";
import { afterAll, afterEach } from "vitest";

interface Counters {
  total: number;
  /** List items served. */
  items: number;
  routes: Record<string, number>;
}

/** A client for one simulator's admin API (/__admin), used to arrange data, faults and read call counts. */
function adminClient(baseUrl: string) {
  const admin = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${baseUrl}/__admin${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    url: baseUrl,
    reset: () => admin("POST", "/reset"),
    counters: () => admin<Counters>("GET", "/counters"),
    clearCounters: () => admin("DELETE", "/counters"),
    /** Requests per exact credential string as sent (a `~tag` included; `""` for none), since the last clear. */
    callsByCredential: async () =>
      (await admin<{ credentials: Record<string, number> }>("GET", "/counters/credentials")).credentials,
    /** The exact paths of the latest requests counted ("GET /path?query"), oldest first; cleared with the counters. */
    requests: async () => (await admin<{ requests: string[] }>("GET", "/requests")).requests,
    /** Every item of a collection in upstream shape, newest first. */
    items: async <T = { id: string }>(query: Record<string, string>) =>
      (await admin<{ items: T[] } | T[]>("GET", `/items?${new URLSearchParams(query)}`)) as { items: T[] },
    insert: <T = { id: string }>(body: Record<string, unknown>) => admin<{ items: T[] }>("POST", "/insert", body),
    setStatus: (body: Record<string, unknown>) => admin("POST", "/status", body),
    /** Items the upstream stops listing: `{ ids }` (Inkit) or `{ workflowIds }` (8x8). */
    remove: (body: Record<string, unknown>) => admin<{ deleted: number }>("POST", "/delete", body),
    fault: (spec: Record<string, unknown>) => admin<{ id: string }>("POST", "/faults", spec),
    clearFaults: () => admin("DELETE", "/faults"),
    /** Limits one exact credential to `calls` per sliding `per_seconds` window: the call past it gets 429. */
    rateLimit: (spec: {
      credential: string;
      calls: number;
      per_seconds: number;
      retry_after?: "seconds" | "http-date";
    }) => admin<RateLimitState>("POST", "/rate-limit", spec),
    /** The limits set since the last reset, and the 429s they sent (`refused`, in all). */
    rateLimits: () => admin<RateLimitState>("GET", "/rate-limit"),
    clearRateLimits: () => admin("DELETE", "/rate-limit"),
    /** The faults injected since the last reset, with how many requests each applied to. */
    faults: () => admin<{ faults: { id: string; hits: number; remaining: number | null }[] }>("GET", "/faults"),
    /** Changes some run-time settings (tie_order, page_size_cap); answers the full settings. Reset restores them. */
    settings: (body: Partial<SimulatorSettings>) => admin<SimulatorSettings>("POST", "/settings", body),
    getSettings: () => admin<SimulatorSettings>("GET", "/settings"),
    /** The emulated routes answer this exact credential (`~tag` included) 401, as an unknown one, until reinstated. */
    revoke: (credential: string) => admin<CredentialState>("POST", "/credentials/revoke", { credential }),
    reinstate: (credential: string) => admin<CredentialState>("POST", "/credentials/reinstate", { credential }),
    /** The credentials revoked since the last reset. */
    revoked: async () => (await admin<{ revoked: string[] }>("GET", "/credentials")).revoked,
    /** 8x8 only: makes `latestVersion + 1` the latest version, with no instances; answers the definition summary. */
    publish: (body: { definitionId: string; tenant?: "demo" | "other" }) =>
      admin<DefinitionSummary>("POST", "/publish", body),
    /** 8x8 only: the tenant's definitions. */
    getDefinitions: (tenant: "demo" | "other" = "demo") =>
      admin<{ definitions: DefinitionSummary[] }>("GET", `/definitions?tenant=${tenant}`),
    /**
     * 8x8 only: adds `count` definitions (version 1) to the tenant's account, empty unless `instances` gives each that
     * many seeded instances, with ties across them and with Inkit runs (`shared` lists those instants).
     */
    addDefinitions: (body: AddDefinitions) => admin<AddedDefinitions>("POST", "/definitions", body),
  };
}

/** The body of `POST /__admin/definitions` (8x8). */
interface AddDefinitions {
  count: number;
  tenant?: "demo" | "other";
  /** Seeded instances per definition (default 0: empty definitions). */
  instances?: number;
}

/** Its answer: the new definitions, and the instants they share with each other or with Inkit runs. */
export interface AddedDefinitions {
  definitions: DefinitionSummary[];
  shared: { startedAt: string; definitionIds: string[]; instances: number; inkitRuns: number }[];
}

/** The answer of `GET /__admin/rate-limit`. */
interface RateLimitState {
  limits: { credential: string; calls: number; per_seconds: number; retry_after: string; refused: number }[];
  refused: number;
}

/** The answer of `POST /__admin/credentials/revoke` and `/reinstate`. */
interface CredentialState {
  credential: string;
  tenant: "demo" | "other";
  revoked: boolean;
}

/** The simulators' run-time settings (simulator/shared/settings.ts). */
interface SimulatorSettings {
  tie_order: "hidden" | "window";
  page_size_cap: number | null;
}

/** An 8x8 definition as `GET /__admin/definitions` and `POST /__admin/publish` describe it. */
export interface DefinitionSummary {
  id: string;
  name: string;
  accountId: string;
  latestVersion: number;
  instancesByVersion: Record<string, number>;
  total: number;
}

// The simulator pair this file's worker calls: its runtime's own, reset before each file (test/setup/fresh-file.ts).
export const inkitSim = adminClient(env.INKIT_BASE_URL);
export const eightByEightSim = adminClient(env.EIGHTBYEIGHT_BASE_URL);

/** Resets both simulators to their seeded data, with no faults and zeroed counters. */
export async function resetSimulators() {
  await Promise.all([inkitSim.reset(), eightByEightSim.reset()]);
}

/**
 * Data changes through the admin API, with cleanup after each test: a reset (which regenerates the seeded data)
 * only after tests that changed data, settings or revoked credentials, otherwise just clearing faults; and a reset
 * after the file.
 */
export function mutationsOf<Item = { id: string }>(sim: ReturnType<typeof adminClient>) {
  let dirty = false;
  afterEach(async () => {
    await (dirty ? sim.reset() : sim.clearFaults());
    dirty = false;
  });
  // Leave no fault, insert or counter behind for the tests after this file's.
  afterAll(() => sim.reset());
  return {
    insert<T = Item>(body: Record<string, unknown>) {
      dirty = true;
      return sim.insert<T>(body);
    },
    setStatus(body: Record<string, unknown>) {
      dirty = true;
      return sim.setStatus(body);
    },
    settings(body: Partial<SimulatorSettings>) {
      dirty = true;
      return sim.settings(body);
    },
    revoke(credential: string) {
      dirty = true;
      return sim.revoke(credential);
    },
    publish(body: { definitionId: string; tenant?: "demo" | "other" }) {
      dirty = true;
      return sim.publish(body);
    },
    addDefinitions(body: AddDefinitions) {
      dirty = true;
      return sim.addDefinitions(body);
    },
  };
}
