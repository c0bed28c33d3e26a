import { configOf } from "../config";
import { sha256Hex } from "../http/digest";
import type { Credential, Provider } from "../providers/catalog";

/** Whose entries, for which resource: entries are never shared between upstream credentials. */
export interface CacheScope {
  provider: Provider;
  credential: Credential;
  /** e.g. `inkit:runs`, `inkit:batches`, `8x8:<account_id>/<definition_id>`. */
  resource: string;
}

export type CacheKind = "list" | "item";

/** How one upstream read was served. */
export interface CacheOutcome {
  status: "hit" | "stale" | "miss" | "bypass" | "error";
  /** Seconds since the served data was fetched upstream. */
  age: number;
  /** Seconds of freshness left (negative when stale). */
  ttl: number;
  stored: boolean;
  /** When the served data was fetched upstream (unix ms). */
  fetchedAt: number;
}

interface Entry<T> {
  /** The validated, normalized value. */
  v: T;
  /** When it was fetched upstream (unix ms): freshness is decided here, not by KV's expiry. */
  at: number;
  /** The scope's generation when it was fetched; a newer generation invalidates it. */
  g: string;
}

/** A value from the upstream and when the call that fetched it started. */
interface Fetched<T> {
  value: T;
  at: number;
}

// Per-isolate state: concurrent identical misses share one upstream call, and a key is written
// at most once a second (KV's per-key write limit).
const inflight = new Map<string, Promise<Fetched<unknown>>>();
const lastWrite = new Map<string, number>();
/** The newest value waiting for its key's second to end: one pending write per key, whatever arrives meanwhile. */
const pendingWrites = new Map<string, { value: unknown; fetchedAt: number; generation?: string }>();
const refreshing = new Set<string>();

const KV_MIN_EXPIRATION = 60;

async function fingerprint(credential: Credential): Promise<string> {
  return (await sha256Hex(`cred|${credential.value}`)).slice(0, 24);
}

async function scopeKeys(scope: CacheScope, request: string) {
  const base = `${scope.provider}:${await fingerprint(scope.credential)}:${scope.resource}`;
  return { entry: `e1:${base}:${(await sha256Hex(request)).slice(0, 32)}`, generation: `g1:${base}` };
}

/**
 * Invalidates every cached entry of one tenant's resource at once, without listing keys:
 * it bumps the scope's generation, and entries stamped with an older one stop counting.
 */
export async function invalidateListings(env: Env, scope: CacheScope): Promise<void> {
  const { generation } = await scopeKeys(scope, "");
  await env.CACHE.put(generation, crypto.randomUUID());
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`KV read exceeded ${ms} ms`)), ms)),
  ]);
}

/**
 * The listing cache as seen by one request (or one cron run): reads through KV with short TTLs,
 * serves stale entries while one background refresh runs, fails open, and remembers how each read
 * was served so the response can say so (`Cache-Status`, `Age`, `Cache-Control`).
 */
export class RequestCache {
  readonly outcomes: CacheOutcome[] = [];
  private readonly config;

  constructor(
    private readonly env: Env,
    private readonly waitUntil: (promise: Promise<unknown>) => void,
    private readonly options: { bypass: boolean; store?: boolean },
  ) {
    this.config = configOf(env);
  }

  /** When the oldest data this request served was fetched upstream (unix ms); null before any read. */
  fetchedAt(): number | null {
    return this.outcomes.length > 0 ? Math.min(...this.outcomes.map((o) => o.fetchedAt)) : null;
  }

  /**
   * The value of an upstream read: from KV when fresh (or stale within the window), else from `load`.
   * `fresh` goes to the upstream for this read alone (a caller found the cached value older than another).
   */
  async read<T>(
    scope: CacheScope,
    request: string,
    kind: CacheKind,
    load: () => Promise<T>,
    fresh = false,
  ): Promise<T> {
    const ttl = kind === "list" ? this.config.cacheListTtlSeconds : this.config.cacheItemTtlSeconds;
    if (ttl === 0) return load();
    const keys = await scopeKeys(scope, request);
    if (this.options.bypass || fresh) return this.fetchAndStore(keys, ttl, load, "bypass");

    let entry: Entry<T> | null;
    let generation: string;
    try {
      const [e, g] = await withTimeout(
        Promise.all([this.env.CACHE.get<Entry<T>>(keys.entry, "json"), this.env.CACHE.get(keys.generation)]),
        this.config.cacheReadTimeoutMs,
      );
      entry = e;
      generation = g ?? "0";
    } catch (err) {
      console.warn(
        JSON.stringify({ level: "warn", msg: "cache read failed; serving from upstream", error: String(err) }),
      );
      const { value, at } = await this.coalesced(keys.entry, load);
      this.outcomes.push({ status: "error", age: 0, ttl: 0, stored: false, fetchedAt: at });
      return value;
    }

    const now = Date.now();
    if (entry && entry.g === generation) {
      const age = Math.max(0, Math.floor((now - entry.at) / 1000));
      if (age < ttl) {
        this.outcomes.push({ status: "hit", age, ttl: ttl - age, stored: false, fetchedAt: entry.at });
        return entry.v;
      }
      if (age < ttl + this.config.cacheStaleSeconds) {
        this.outcomes.push({ status: "stale", age, ttl: ttl - age, stored: false, fetchedAt: entry.at });
        this.refreshInBackground(keys, ttl, generation, load);
        return entry.v;
      }
    }
    return this.fetchAndStore(keys, ttl, load, "miss", generation);
  }

  private async fetchAndStore<T>(
    keys: { entry: string; generation: string },
    ttl: number,
    load: () => Promise<T>,
    status: "miss" | "bypass",
    generation?: string,
  ): Promise<T> {
    const { value, at } = await this.coalesced(keys.entry, load);
    const stored = await this.store(keys, ttl, value, at, generation);
    this.outcomes.push({ status, age: 0, ttl, stored, fetchedAt: at });
    return value;
  }

  /** Concurrent identical loads share one upstream call, and so one fetch time (hence identical cursors). */
  private coalesced<T>(key: string, load: () => Promise<T>): Promise<Fetched<T>> {
    const pending = inflight.get(key) as Promise<Fetched<T>> | undefined;
    if (pending) return pending;
    const at = Date.now();
    const promise = load()
      .then((value) => ({ value, at }))
      .finally(() => inflight.delete(key));
    inflight.set(key, promise);
    return promise;
  }

  private refreshInBackground<T>(
    keys: { entry: string; generation: string },
    ttl: number,
    generation: string,
    load: () => Promise<T>,
  ) {
    if (refreshing.has(keys.entry)) return;
    refreshing.add(keys.entry);
    const refresh = this.coalesced(keys.entry, load)
      .then(({ value, at }) => this.store(keys, ttl, value, at, generation))
      .catch((err) =>
        console.warn(JSON.stringify({ level: "warn", msg: "background refresh failed", error: String(err) })),
      )
      .finally(() => refreshing.delete(keys.entry));
    this.waitUntil(refresh);
  }

  /**
   * Writes an entry. A key written less than a second ago (KV's per-key limit) is written once the second
   * is over, in the background, so a refresh is deferred rather than lost. KV failures are logged, never thrown.
   */
  private async store<T>(
    keys: { entry: string; generation: string },
    ttl: number,
    value: T,
    fetchedAt: number,
    generation?: string,
    deferred = false,
  ): Promise<boolean> {
    if (this.options.store === false) return false;
    const now = Date.now();
    const wait = 1000 - (now - (lastWrite.get(keys.entry) ?? 0));
    if (wait > 0 && !deferred) {
      // Written once the second is over, newest value only; the timer is what waited, so it does not check again.
      const queued = pendingWrites.has(keys.entry);
      pendingWrites.set(keys.entry, { value, fetchedAt, generation });
      if (queued) return false;
      const later = new Promise((resolve) => setTimeout(resolve, wait));
      this.waitUntil(
        later.then(() => {
          const latest = pendingWrites.get(keys.entry);
          pendingWrites.delete(keys.entry);
          return latest && this.store(keys, ttl, latest.value, latest.fetchedAt, latest.generation, true);
        }),
      );
      return false;
    }
    if (lastWrite.size > 10_000) lastWrite.clear();
    lastWrite.set(keys.entry, now);
    try {
      const g = generation ?? (await this.env.CACHE.get(keys.generation)) ?? "0";
      const entry: Entry<T> = { v: value, at: fetchedAt, g };
      await this.env.CACHE.put(keys.entry, JSON.stringify(entry), {
        expirationTtl: Math.max(KV_MIN_EXPIRATION, ttl + this.config.cacheStaleSeconds),
      });
      return true;
    } catch (err) {
      console.warn(JSON.stringify({ level: "warn", msg: "cache write failed", error: String(err) }));
      return false;
    }
  }
}
