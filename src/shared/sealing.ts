import { fromBase64Url, toBase64Url } from "./base64url";

const encoder = new TextEncoder();

const keyCache = new Map<string, Promise<CryptoKey>>();

/**
 * AES-256-GCM key derived (HKDF-SHA256) from a secret for one purpose; a database dump alone cannot decrypt. The
 * `webhook-secrets` purpose (WEBHOOK_ENCRYPTION_KEY) seals signing secrets and the stored answers of keyed POSTs
 * (which hold them after a create or a rotation); `connection-credentials` seals tenants' upstream credentials.
 */
function encryptionKey(master: string, purpose = "webhook-secrets"): Promise<CryptoKey> {
  const cacheKey = `${purpose}\u0000${master}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", encoder.encode(master), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: encoder.encode(`tributary/${purpose}`),
          info: encoder.encode("v1"),
        },
        base,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    keyCache.set(cacheKey, key);
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

/** One key of a keyring: its id, stored beside every text it sealed, and its secret. */
export interface SealingKey {
  id: string;
  secret: string;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Seals text under the first key of a keyring (AES-256-GCM, a fresh IV, `context` as additional data), for a purpose
 * of its own: `<key id>.<iv>.<ciphertext>`. The key id says which key opens it, so a new key can be put first while
 * the old ones still open what they sealed (rotation without downtime).
 * @example await sealWithKeyring(keys, "connection-credentials", "tenant|conn_…", "token") // { keyId: "k2", sealed: "k2.…" }
 */
export async function sealWithKeyring(
  keys: readonly SealingKey[],
  purpose: string,
  context: string,
  text: string,
): Promise<{ keyId: string; sealed: string }> {
  const key = keys[0];
  if (!key || !KEY_ID.test(key.id)) throw new Error("No usable sealing key.");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    await encryptionKey(key.secret, purpose),
    encoder.encode(text),
  );
  return { keyId: key.id, sealed: `${key.id}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}` };
}

/** Opens what {@link sealWithKeyring} sealed, with the key its id names; throws when that key is gone or differs. */
export async function openWithKeyring(
  keys: readonly SealingKey[],
  purpose: string,
  context: string,
  stored: string,
): Promise<string> {
  const [keyId, iv, sealed] = stored.split(".");
  const key = keys.find((k) => k.id === keyId);
  if (!key || !iv || !sealed) throw new Error(`No key ${keyId ?? "?"} to open this text.`);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64Url(iv), additionalData: encoder.encode(context) },
    await encryptionKey(key.secret, purpose),
    fromBase64Url(sealed),
  );
  return new TextDecoder().decode(plain);
}
