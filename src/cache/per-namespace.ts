/**
 * Isolate state kept per KV namespace, created on first use: each binding (and each test's environment) has its
 * own, and it goes when the namespace object does.
 */
export function perNamespace<T>(create: () => T): (kv: KVNamespace) => T {
  const all = new WeakMap<KVNamespace, T>();
  return (kv) => {
    let state = all.get(kv);
    if (!state) {
      state = create();
      all.set(kv, state);
    }
    return state;
  };
}
