const encoder = new TextEncoder();

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
