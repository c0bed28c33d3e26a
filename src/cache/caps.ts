import { loggerOf } from "../shared/logger";
import { currentUpstreamScope } from "../upstream/scope";
import { perNamespace } from "./per-namespace";
import { type CachePartition, partitionBase } from "./request-cache";

/**
 * Silent page-size caps, remembered per upstream listing and credential: isolate memory in front of KV. A walk
 * then aligns its reads to a cap an earlier walk learned, instead of asking for blocks the upstream will not serve
 * whole. A remembered cap is only a hint: the page model still asks a walk's first block in full, so a response
 * larger than the cap replaces it, and it expires after a day either way.
 */
interface CapMemory {
  /** The remembered cap, 0 for none. Reads isolate memory only; on a miss KV is read in the background. */
  recall(): Promise<number>;
  /** What a read learned: a cap, or 0 when the upstream served more than the remembered one. */
  learn(cap: number): void;
}

const CAP_TTL_SECONDS = 86_400;
/** How long isolate memory trusts what it read from KV (another isolate may have learned since). */
const RECHECK_MS = 60_000;

interface Known {
  cap: number;
  /** Until when isolate memory answers without asking KV again (unix ms). */
  until: number;
}

const memoryOf = perNamespace(() => new Map<string, Known>());
const reading = new Set<string>();

/** The cap memory of one upstream listing and credential. Without a `CACHE` binding it remembers nothing. */
export function capMemory(env: Env, waitUntil: (p: Promise<unknown>) => void, partition: CachePartition): CapMemory {
  const kv = env.CACHE as KVNamespace | undefined;
  let key: string | undefined;
  const keyOf = async () => {
    key ??= `c1:${await partitionBase(partition)}`;
    return key;
  };
  const remember = (k: string, cap: number) => {
    const map = memoryOf(kv as KVNamespace);
    if (map.size > 1000) map.clear();
    map.set(k, { cap, until: Date.now() + RECHECK_MS });
  };
  return {
    async recall() {
      if (!kv) return 0;
      const k = await keyOf();
      const known = memoryOf(kv).get(k);
      if (known && known.until > Date.now()) return known.cap;
      if (!reading.has(k)) {
        reading.add(k);
        waitUntil(
          kv
            .get(k)
            .then((v) => remember(k, Number(v ?? 0) || 0))
            .catch((err) => loggerOf(env).warn("cap memory read failed", { error: String(err) }))
            .finally(() => reading.delete(k)),
        );
      }
      return known?.cap ?? 0;
    },
    learn(cap) {
      if (cap > 0) currentUpstreamScope()?.telemetry.learnedCap(partition.resource, cap);
      if (!kv) return;
      waitUntil(
        (async () => {
          const k = await keyOf();
          const before = memoryOf(kv).get(k)?.cap;
          remember(k, cap);
          if (before === cap) return;
          if (cap > 0) await kv.put(k, String(cap), { expirationTtl: CAP_TTL_SECONDS });
          else await kv.delete(k);
        })().catch((err) => loggerOf(env).warn("cap memory write failed", { error: String(err) })),
      );
    },
  };
}
