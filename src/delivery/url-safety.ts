/** Why a webhook URL was refused, or null when it is acceptable. */
type UrlVerdict = { ok: true; url: string } | { ok: false; reason: string };

const BLOCKED_NAMES = new Set(["localhost", "metadata", "metadata.google.internal", "instance-data"]);
const BLOCKED_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".localdomain"];

/** IPv4 ranges no webhook may target: [network, prefix length]. */
const BLOCKED_V4: [string, number][] = [
  ["0.0.0.0", 8], // "this" network
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

function v4ToNumber(ip: string): number | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    n = n * 256 + Number(part);
  }
  return n;
}

function blockedV4(n: number): boolean {
  return BLOCKED_V4.some(([network, bits]) => {
    const size = 2 ** (32 - bits);
    const base = v4ToNumber(network) ?? 0;
    return n >= base && n < base + size;
  });
}

/** The eight 16-bit groups of an IPv6 literal (brackets removed), or null when it is not one. */
function v6Groups(ip: string): number[] | null {
  let text = ip;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const n = v4ToNumber(dotted);
    if (n === null) return null;
    text = `${text.slice(0, -dotted.length)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) =>
    s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? Number.parseInt(g, 16) : Number.NaN));
  const head = parse(halves[0] ?? "");
  const rest = halves.length === 2 ? parse(halves[1] ?? "") : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  if (fill < 0) return null;
  const groups = [...head, ...Array<number>(fill).fill(0), ...rest];
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return null;
  return groups;
}

function blockedV6(g: number[]): boolean {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0] = g;
  const zeroPrefix = a === 0 && b === 0 && c === 0 && d === 0 && e === 0;
  if (zeroPrefix && f === 0) return true; // ::, ::1 and IPv4-compatible ::a.b.c.d
  if (zeroPrefix && f === 0xffff) return true; // IPv4-mapped ::ffff:a.b.c.d
  if (a === 0x64 && b === 0xff9b) return true; // NAT64 64:ff9b::/96 (and /48 local use)
  if (a === 0x100 && b === 0 && c === 0 && d === 0) return true; // discard-only 100::/64
  if ((a & 0xfe00) === 0xfc00) return true; // unique local fc00::/7, including fd00:ec2::254 (AWS metadata)
  if ((a & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((a & 0xffc0) === 0xfec0) return true; // site-local fec0::/10 (deprecated)
  if ((a & 0xff00) === 0xff00) return true; // multicast
  if (a === 0x2001 && b === 0x0db8) return true; // documentation
  if (a === 0x2002) return true; // 6to4: embeds an IPv4 address
  if (a === 0x2001 && b === 0) return true; // Teredo: embeds an IPv4 address
  return false;
}

/**
 * Checks a webhook URL: `https` only, no credentials, and no host that names or resolves by literal to loopback,
 * private, link-local, CGNAT, multicast or cloud-metadata addresses. Decimal, hex and octal IPv4 spellings are
 * normalized by the WHATWG URL parser before the check. `allowInsecure` (local development and tests only) accepts
 * every http(s) URL. DNS names are not resolved here: a public name pointing at a private address is stopped by
 * the Workers runtime, which cannot reach private networks.
 *
 * @example checkWebhookUrl("https://169.254.169.254/latest", false) // { ok: false, reason: "…" }
 */
export function checkWebhookUrl(raw: string, allowInsecure: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "Not an absolute URL." };
  }
  if (url.protocol !== "https:" && !(allowInsecure && url.protocol === "http:")) {
    return { ok: false, reason: "Must use https." };
  }
  if (url.username || url.password) return { ok: false, reason: "Must not contain credentials." };
  if (url.hash) return { ok: false, reason: "Must not contain a fragment." };
  if (allowInsecure) return { ok: true, url: url.toString() };

  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host === "") return { ok: false, reason: "Must name a host." };
  if (host.startsWith("[")) {
    const groups = v6Groups(host.slice(1, -1));
    if (!groups || blockedV6(groups)) return { ok: false, reason: "Must not target a non-public IPv6 address." };
    return { ok: true, url: url.toString() };
  }
  const v4 = v4ToNumber(host);
  if (v4 !== null) {
    return blockedV4(v4)
      ? { ok: false, reason: "Must not target a loopback, private, link-local or other non-public IPv4 address." }
      : { ok: true, url: url.toString() };
  }
  if (!host.includes(".")) return { ok: false, reason: "Must use a fully qualified public host name." };
  if (BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return { ok: false, reason: "Must not target a local or cloud-metadata host name." };
  }
  return { ok: true, url: url.toString() };
}
