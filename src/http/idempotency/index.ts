export { REPLAYED_HEADER } from "./answer";
export { canonicalJson, fingerprintOf, requestFingerprint } from "./fingerprint";
export { IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_MS, idempotent } from "./idempotent";
