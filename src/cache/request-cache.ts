import { configOf } from "../config";
import { staged } from "../observability/stages";
import { type CacheOutcomeName, withCallContext } from "../observability/telemetry";
import type { Provider } from "../schemas/sources";
import { sha256Hex } from "../shared/digest";
import { loggerOf } from "../shared/logger";
import { type Credential, credentialIdentity } from "../upstream/credential";
import { forgetNamespaceState, perNamespace } from "./per-namespace";

/** Whose entries, for which resource: entries are never shared between upstream credentials. */
export interface CachePartition {
  provider: Provider;
  credential: Credential;
  /** e.g. `inkit:runs`, `inkit:batches`, `8x8:<account_id>/<definition_id>`. */
  resource: string;
}

type CacheKind = "list" | "item";

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
  /** The partition's generation when it was fetched; a newer generation invalidates it. */
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

/**
 * Forgets all the cache keeps in this isolate (hot entries, ready pages, caps, reads in flight, pending writes), as a
 * new isolate starts without any: for tests, which share one isolate across files.
 */
export function forgetCacheMemory(): void {
  inflight.clear();
  lastWrite.clear();
  pendingWrites.clear();
  refreshing.clear();
  forgetNamespaceState();
}

/**
 * Hot entries in isolate memory, in front of one KV namespace: a hit costs no KV read. Bounded (least recently
 * used out first); freshness is decided from the entry's fetch time exactly as for KV. Generations read from KV
 * are reused for a couple of seconds (KV itself may be up to 60 s stale in other locations); an invalidation in
 * this isolate updates them at once.
 */
class HotEntries {
  readonly entries = new Map<string, Entry<unknown>>();
  private readonly generations = new Map<string, { g: string; until: number }>();

  get<T>(key: string): Entry<T> | undefined {
    const entry = this.entries.get(key) as Entry<T> | undefined;
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  put(key: string, entry: Entry<unknown>) {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > HOT_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
  }

  generation(key: string, now: number): string | undefined {
    const known = this.generations.get(key);
    return known && known.until > now ? known.g : undefined;
  }

  setGeneration(key: string, g: string, now: number) {
    if (this.generations.size > 1000) this.generations.clear();
    this.generations.set(key, { g, until: now + GENERATION_REUSE_MS });
  }
}

const HOT_ENTRIES = 64;
const GENERATION_REUSE_MS = 2000;
const hot = perNamespace(() => new HotEntries());
/** The hot entries of a namespace; a missing binding has none (reads then fail open as KV errors do). */
const hotEntries = (kv: KVNamespace | undefined): HotEntries => (kv ? hot(kv) : new HotEntries());

// By credential identity, so a busy isolate hashes each credential once; bounded, as callers' credentials are unbounded.
const fingerprints = new Map<string, Promise<string>>();

function fingerprint(credential: Credential): Promise<string> {
  const identity = credentialIdentity(credential);
  let known = fingerprints.get(identity);
  if (!known) {
    known = sha256Hex(identity).then((hex) => hex.slice(0, 24));
    if (fingerprints.size >= 1_000) fingerprints.clear();
    fingerprints.set(identity, known);
  }
  return known;
}

/** A partition as a key prefix: provider, credential fingerprint (never the credential) and resource. */
export async function partitionBase(partition: CachePartition): Promise<string> {
  return `${partition.provider}:${await fingerprint(partition.credential)}:${partition.resource}`;
}

/**
 * An entry's key names its request as it is (a canonical path and query: ASCII, no credential) when the key stays
 * this short, and by a hash otherwise: KV keys hold 512 bytes at most. Hashing every read cost more CPU than any
 * other step of a many-source page's reads.
 */
const RAW_KEY_LENGTH = 480;

async function partitionKeys(partition: CachePartition, request: string) {
  const base = await partitionBase(partition);
  const raw = `e2:${base}:${request}`;
  const entry = raw.length <= RAW_KEY_LENGTH ? raw : `e1:${base}:${(await sha256Hex(request)).slice(0, 32)}`;
  return { entry, generation: `g1:${base}` };
}

/**
 * Invalidates every cached entry of one tenant's resource at once, without listing keys:
 * it bumps the partition's generation, and entries stamped with an older one stop counting.
 */
export async function invalidateListings(env: Env, partition: CachePartition): Promise<void> {
  const { generation } = await partitionKeys(partition, "");
  const g = crypto.randomUUID();
  await env.CACHE.put(generation, g);
  hotEntries(env.CACHE).setGeneration(generation, g, Date.now());
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`KV read exceeded ${ms} ms`)), ms);
  });
  // Cleared once the read is in: an isolate holds at most 10,000 active timeouts.
  return Promise.race([promise, late]).finally(() => timer !== undefined && clearTimeout(timer));
}

/**
 * The listing cache as seen by one request (or one cron run): reads through KV with short TTLs,
 * serves stale entries while one background refresh runs, fails open, and remembers how each read
 * was served so the response can say so (`Cache-Status`, `Age`, `Cache-Control`).
 */
export class RequestCache {
  readonly outcomes: CacheOutcome[] = [];
  /**
   * Whether a read went through a tenant's connection: such a page is never kept whole (a ready page is sent before
   * the route runs, so it could not see the connection turn invalid or deleted).
   */
  throughConnection = false;
  /** The cache generations this request's reads were valid under, by generation key. */
  readonly generations = new Map<string, string>();
  private readonly config;

  constructor(
    private readonly env: Env,
    /** Work that outlives the response (KV writes, refreshes). */
    readonly waitUntil: (promise: Promise<unknown>) => void,
    private readonly options: { bypass: boolean; store?: boolean },
  ) {
    this.config = configOf(env);
  }

  /**
   * Whether this request's list reads are shared through the cache (answered from it and stored for later ones). A
   * walk then reads aligned blocks that later pages and walks ask for again; otherwise it reads just what it needs.
   */
  get shared(): boolean {
    return this.config.cacheListTtlSeconds > 0 && !this.options.bypass;
  }

  /** When the oldest data this request served was fetched upstream (unix ms); null before any read. */
  fetchedAt(): number | null {
    return this.outcomes.length > 0 ? Math.min(...this.outcomes.map((o) => o.fetchedAt)) : null;
  }

  /**
   * The value of an upstream read: from KV when fresh (or stale within the window), else from `load`.
   * `fresh` goes to the upstream for this read alone (a caller found the cached value older than another).
   */
  read<T>(
    partition: CachePartition,
    request: string,
    kind: CacheKind,
    load: () => Promise<T>,
    fresh = false,
    /** Store the answer (see `ReadOptions.keep`): false for a request no other one asks again. */
    keep = true,
  ): Promise<T> {
    return staged("cache", () => this.readThrough(partition, request, kind, load, fresh, keep));
  }

  private async readThrough<T>(
    partition: CachePartition,
    request: string,
    kind: CacheKind,
    load: () => Promise<T>,
    fresh: boolean,
    keep: boolean,
  ): Promise<T> {
    if (partition.credential.connection) this.throughConnection = true;
    const ttl = kind === "list" ? this.config.cacheListTtlSeconds : this.config.cacheItemTtlSeconds;
    // Each upstream call says which listing it read and how the cache read that made it went.
    const via = (cache: CacheOutcomeName) => () => withCallContext({ listing: partition.resource, cache }, load);
    if (ttl === 0) return via("bypass")();
    const keys = await partitionKeys(partition, request);
    if (this.options.bypass || fresh) return this.fetchAndStore(keys, ttl, via("bypass"), "bypass", undefined, keep);

    const memory = hotEntries(this.env.CACHE);
    const known = memory.generation(keys.generation, Date.now());
    const held = known === undefined ? undefined : memory.get<T>(keys.entry);
    if (held && held.g === known) {
      const served = this.serve(keys, ttl, held, known, via("stale"));
      if (served) return served.value;
    }

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
      loggerOf(this.env).warn("cache read failed; serving from upstream", { error: String(err) });
      const { value, at } = await this.coalesced(keys.entry, via("miss"));
      this.outcomes.push({ status: "error", age: 0, ttl: 0, stored: false, fetchedAt: at });
      return value;
    }

    memory.setGeneration(keys.generation, generation, Date.now());
    if (entry && entry.g === generation) {
      memory.put(keys.entry, entry);
      const served = this.serve(keys, ttl, entry, generation, via("stale"));
      if (served) return served.value;
    }
    return this.fetchAndStore(keys, ttl, via("miss"), "miss", generation);
  }

  /**
   * Stores a value under another request that is known to answer the same (e.g. the pinned form of the walk's
   * first read), as if fetched when this request's oldest read was: later pages then find it cached.
   */
  async seed<T>(partition: CachePartition, request: string, kind: CacheKind, value: T): Promise<void> {
    if (partition.credential.connection) this.throughConnection = true;
    const ttl = kind === "list" ? this.config.cacheListTtlSeconds : this.config.cacheItemTtlSeconds;
    if (ttl === 0 || this.options.store === false) return;
    const keys = await partitionKeys(partition, request);
    const at = this.fetchedAt() ?? Date.now();
    await this.store(keys, ttl, value, at, hotEntries(this.env.CACHE).generation(keys.generation, Date.now()));
  }

  /** The generation of a listing as this isolate currently knows it (undefined: ask KV again). */
  currentGeneration(key: string): string | undefined {
    return hotEntries(this.env.CACHE).generation(key, Date.now());
  }

  /** A held entry as a hit or, within the stale window, a stale answer plus one background refresh. */
  private serve<T>(
    keys: { entry: string; generation: string },
    ttl: number,
    entry: Entry<T>,
    generation: string,
    load: () => Promise<T>,
  ): { value: T } | null {
    const age = Math.max(0, Math.floor((Date.now() - entry.at) / 1000));
    this.generations.set(keys.generation, generation);
    if (age < ttl) {
      this.outcomes.push({ status: "hit", age, ttl: ttl - age, stored: false, fetchedAt: entry.at });
      return { value: entry.v };
    }
    if (age < ttl + this.config.cacheStaleSeconds) {
      this.outcomes.push({ status: "stale", age, ttl: ttl - age, stored: false, fetchedAt: entry.at });
      this.refreshInBackground(keys, ttl, generation, load);
      return { value: entry.v };
    }
    return null;
  }

  private async fetchAndStore<T>(
    keys: { entry: string; generation: string },
    ttl: number,
    load: () => Promise<T>,
    status: "miss" | "bypass",
    generation?: string,
    keep = true,
  ): Promise<T> {
    const { value, at } = await this.coalesced(keys.entry, load);
    if (generation !== undefined) this.generations.set(keys.generation, generation);
    const stored = keep && (await this.store(keys, ttl, value, at, generation));
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
      .catch((err) => loggerOf(this.env).warn("background refresh failed", { error: String(err) }))
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
    // Memory takes every new value at once; KV, at most one write a second per key.
    const known = generation ?? hotEntries(this.env.CACHE).generation(keys.generation, now);
    if (known !== undefined) hotEntries(this.env.CACHE).put(keys.entry, { v: value, at: fetchedAt, g: known });
    // Never more than the second KV asks for, even if the clock stepped back since the last write.
    const wait = Math.min(1000, 1000 - (now - (lastWrite.get(keys.entry) ?? 0)));
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
    // Off the response's path: this isolate already holds the value (hot entries), and KV takes it meanwhile.
    const write = async () => {
      try {
        const g = generation ?? (await this.env.CACHE.get(keys.generation)) ?? "0";
        const entry: Entry<T> = { v: value, at: fetchedAt, g };
        await this.env.CACHE.put(keys.entry, JSON.stringify(entry), {
          expirationTtl: Math.max(KV_MIN_EXPIRATION, ttl + this.config.cacheStaleSeconds),
        });
      } catch (err) {
        loggerOf(this.env).warn("cache write failed", { error: String(err) });
      }
    };
    if (deferred) await write();
    else this.waitUntil(write());
    return true;
  }
}
