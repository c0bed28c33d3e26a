export { canonicalJson, fingerprintOf } from "./fingerprint";
export { answerInWrite, idempotent } from "./idempotent";
