import { fromBase64Url, toBase64Url } from "../shared/base64url";

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

/**
 * The `webhook-signature` header value for a message: one `v1,<base64 HMAC-SHA256>` per secret over
 * `${id}.${timestamp}.${body}`, space-separated (several secrets while a rotated-out one is still valid).
 *
 * @example await signatureHeader("evt_…", 1730419200, '{"type":"ping"}', ["whsec_…"]) // "v1,K5oZ…="
 */
export async function signatureHeader(id: string, timestamp: number, body: string, secrets: string[]): Promise<string> {
  const content = encoder.encode(`${id}.${timestamp}.${body}`);
  const signatures = await Promise.all(
    secrets.map(async (secret) => {
      const key = await crypto.subtle.importKey("raw", secretBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
      ]);
      return `v1,${toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, content)))}`;
    }),
  );
  return signatures.join(" ");
}

const keyCache = new Map<string, Promise<CryptoKey>>();

/**
 * AES-256-GCM key derived (HKDF-SHA256) from the WEBHOOK_ENCRYPTION_KEY secret; a database dump alone cannot decrypt.
 * It seals signing secrets and the stored answers of keyed POSTs (which hold them after a create or a rotation).
 */
function encryptionKey(master: string): Promise<CryptoKey> {
  let key = keyCache.get(master);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", encoder.encode(master), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: encoder.encode("tributary/webhook-secrets"),
          info: encoder.encode("v1"),
        },
        base,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    keyCache.set(master, key);
  }
  return key;
}

/**
 * Encrypts text with the key derived from WEBHOOK_ENCRYPTION_KEY (AES-256-GCM, a fresh IV each time), bound to
 * `context` as additional data: the ciphertext opens only with the same context, so a row copied elsewhere is useless.
 * @example await sealText(master, "we_01JD…", "whsec_…") // "v1.<iv>.<ciphertext>"
 */
export async function sealText(master: string, context: string, text: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    await encryptionKey(master),
    encoder.encode(text),
  );
  return `v1.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

/** Decrypts what {@link sealText} sealed; throws if the key, the context or the ciphertext do not match. */
export async function openSealed(master: string, context: string, stored: string): Promise<string> {
  const [version, iv, sealed] = stored.split(".");
  if (version !== "v1" || !iv || !sealed) throw new Error("Unknown sealed text format.");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64Url(iv), additionalData: encoder.encode(context) },
    await encryptionKey(master),
    fromBase64Url(sealed),
  );
  return new TextDecoder().decode(plain);
}

/** Encrypts a signing secret, bound to its endpoint id (additional data) so rows cannot be swapped. */
export const encryptSecret = (master: string, endpointId: string, secret: string) =>
  sealText(master, endpointId, secret);

/** Decrypts what {@link encryptSecret} sealed; throws if the key, endpoint id or ciphertext do not match. */
export const decryptSecret = (master: string, endpointId: string, stored: string) =>
  openSealed(master, endpointId, stored);

/** Whether `hexSignature` is the hex HMAC-SHA256 of `body` under `secret`; constant-time (WebCrypto verify). */
export async function verifyHexHmac(secret: string, body: ArrayBuffer, hexSignature: string): Promise<boolean> {
  const hex = hexSignature.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) return false;
  const signature = Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "verify",
  ]);
  return crypto.subtle.verify("HMAC", key, signature, body);
}
