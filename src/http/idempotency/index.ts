export { canonicalJson, fingerprintOf } from "./fingerprint";
export { idempotent } from "./idempotent";
