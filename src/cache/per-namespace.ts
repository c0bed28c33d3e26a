/** Every perNamespace state's way to forget all it holds. */
const forgetters: (() => void)[] = [];

/**
 * Isolate state kept per KV namespace, created on first use: each binding (and each test's environment) has its
 * own, and it goes when the namespace object does.
 */
export function perNamespace<T>(create: () => T): (kv: KVNamespace) => T {
  let all = new WeakMap<KVNamespace, T>();
  forgetters.push(() => {
    all = new WeakMap();
  });
  return (kv) => {
    let state = all.get(kv);
    if (!state) {
      state = create();
      all.set(kv, state);
    }
    return state;
  };
}

/** Forgets the state of every namespace, as a new isolate starts without any: for tests, which share one isolate. */
export function forgetNamespaceState(): void {
  for (const forget of forgetters) forget();
}
