const encoder = new TextEncoder();

/** SHA-256 of a string. */
export function sha256(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/** Lower-case hex of bytes, e.g. of a digest. */
export function toHex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Hex SHA-256 of a string. */
export async function sha256Hex(value: string): Promise<string> {
  return toHex(await sha256(value));
}
