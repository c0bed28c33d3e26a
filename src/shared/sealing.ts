import { fromBase64Url, toBase64Url } from "./base64url";

const encoder = new TextEncoder();

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
