const encoder = new TextEncoder();

/** SHA-256 of a string. */
export function sha256(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

// Two hex digits per byte value: every request hashes something (its API key at least), so no per-byte formatting.
const HEX_BYTES = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** Lower-case hex of bytes, e.g. of a digest. */
export function toHex(bytes: ArrayBuffer): string {
  const view = new Uint8Array(bytes);
  let hex = "";
  for (let i = 0; i < view.length; i++) hex += HEX_BYTES[view[i] as number];
  return hex;
}

/** Hex SHA-256 of a string. */
export async function sha256Hex(value: string): Promise<string> {
  return toHex(await sha256(value));
}
