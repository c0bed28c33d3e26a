import { openSealed, sealText } from "../shared/sealing";

const encoder = new TextEncoder();

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));

/** A new Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The HMAC key bytes of a `whsec_` secret. */
function secretBytes(secret: string): Uint8Array {
  return fromBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
}

/** The HMAC-SHA256 keys of `whsec_` secrets, imported once for every message they sign. */
export function signingKeys(secrets: readonly string[]): Promise<CryptoKey[]> {
  return Promise.all(
    secrets.map((secret) =>
      crypto.subtle.importKey("raw", secretBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
    ),
  );
}

/**
 * The `webhook-signature` header value for a message: one `v1,<base64 HMAC-SHA256>` per secret's key (see
 * `signingKeys`) over `${id}.${timestamp}.${body}`, space-separated (several secrets while a rotated-out one is still
 * valid).
 *
 * @example await signatureHeader("evt_…", 1730419200, '{"type":"ping"}', await signingKeys(["whsec_…"])) // "v1,K5oZ…="
 */
export async function signatureHeader(id: string, timestamp: number, body: string, keys: readonly CryptoKey[]) {
  const content = encoder.encode(`${id}.${timestamp}.${body}`);
  const signatures = await Promise.all(
    keys.map(async (key) => `v1,${toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, content)))}`),
  );
  return signatures.join(" ");
}

/** Seals a signing secret (AES-GCM, shared/sealing.ts), bound to its endpoint id (additional data) so rows cannot be swapped. */
export const sealSecret = (master: string, endpointId: string, secret: string) => sealText(master, endpointId, secret);

/** Opens what {@link sealSecret} sealed; throws if the key, endpoint id or ciphertext do not match. */
export const openSecret = (master: string, endpointId: string, stored: string) =>
  openSealed(master, endpointId, stored);
