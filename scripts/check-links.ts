// `npm run links`: every relative link and anchor in the repository's markdown resolves, offline.
//
// Reads every committed markdown file (`git ls-files '*.md'`, plus new files git does not ignore), or every `*.md`
// under `--root <dir>` when that directory is not a git checkout (it has no `.git`). A relative link's target must
// exist; a `#anchor` must match a heading of the target markdown file (or of the same file) as GitHub slugs it.
// External links (any scheme: http, https, mailto) are skipped, and so are links in fenced code blocks and inline
// code. Prints each broken link as `file:line: target (reason)` and exits 1 when there is any.
//
//   npx tsx scripts/check-links.ts [--root <dir>]
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

interface Link {
  line: number;
  target: string;
}

interface Broken extends Link {
  file: string;
  reason: string;
}

/** The markdown files to check (relative to `root`, with `/`), and the files git knows when `root` is a checkout. */
function markdownFiles(root: string): { files: string[]; known: Set<string> | null } {
  if (existsSync(join(root, ".git"))) {
    const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const known = new Set(listed.split("\0").filter((f) => f && existsSync(join(root, f))));
    return { files: [...known].filter((f) => f.endsWith(".md")).sort(), known };
  }
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md")) files.push(relative(root, path).split(sep).join("/"));
    }
  };
  walk(root);
  return { files: files.sort(), known: null };
}

/** The lines of a markdown file with its fenced code blocks blanked out (line numbers kept). */
function withoutFences(text: string): string[] {
  let fence: string | null = null;
  return text.split(/\r?\n/).map((line) => {
    const marker = /^\s*(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence !== null) {
      const closes = marker?.[1] && marker[1][0] === fence[0] && marker[1].length >= fence.length && !marker[2]?.trim();
      if (closes) fence = null;
      return "";
    }
    if (marker?.[1]) {
      fence = marker[1];
      return "";
    }
    return line;
  });
}

/** The same lines with inline code blanked out too: a code span may span lines of a paragraph, never a blank line. */
function withoutInlineCode(lines: string[]): string[] {
  const out: string[] = [];
  let block: string[] = [];
  const flush = () => {
    if (block.length === 0) return;
    const joined = block.join("\n").replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (m) => m.replace(/[^\n]/g, " "));
    out.push(...joined.split("\n"));
    block = [];
  };
  for (const line of lines) {
    if (line.trim() === "") {
      flush();
      out.push(line);
    } else block.push(line);
  }
  flush();
  return out;
}

/** Every link target in the prose: inline links and images, reference definitions, and HTML href/src. */
function linksOf(lines: string[]): Link[] {
  const links: Link[] = [];
  lines.forEach((text, i) => {
    const line = i + 1;
    for (const m of text.matchAll(/\]\(\s*(<[^>\n]*>|[^\s)]*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g)) {
      links.push({ line, target: (m[1] ?? "").replace(/^<|>$/g, "") });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(text);
    if (definition?.[1]) links.push({ line, target: definition[1].replace(/^<|>$/g, "") });
    for (const m of text.matchAll(/\b(?:href|src)\s*=\s*"([^"]*)"/g)) links.push({ line, target: m[1] ?? "" });
  });
  return links;
}

/** A heading's text as GitHub renders it: without emphasis, code ticks, links' targets and HTML tags. */
function headingText(raw: string): string {
  return raw
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/[`*~]/g, "")
    .trim();
}

/** GitHub's slug: lowercase, punctuation and symbols removed (hyphens and underscores kept), each space a hyphen. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors a markdown file offers: its headings' slugs (a repeat gets `-1`, `-2`, …) and explicit ids. */
function anchorsOf(lines: string[]): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const add = (text: string) => {
    const base = slug(headingText(text));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  };
  lines.forEach((line, i) => {
    const atx = /^ {0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$/.exec(line);
    if (atx) add(atx[1] ?? "");
    const previous = lines[i - 1] ?? "";
    if (
      /^ {0,3}(=+|-+)\s*$/.test(line) &&
      previous.trim() !== "" &&
      !/^\s*([-*+>|#]|\d+[.)])/.test(previous) &&
      !/^ {0,3}(=+|-+)\s*$/.test(previous)
    ) {
      add(previous);
    }
    for (const m of line.matchAll(/<a\s[^>]*\b(?:name|id)\s*=\s*"([^"]+)"/g)) anchors.add(m[1] ?? "");
  });
  return anchors;
}

/** Checks every markdown file under `root`; returns the broken links and how many links were checked. */
function checkLinks(root: string): { broken: Broken[]; files: number; links: number } {
  const { files, known } = markdownFiles(root);
  const parsed = new Map<string, { links: Link[]; anchors: Set<string> }>();
  const parse = (file: string) => {
    let entry = parsed.get(file);
    if (!entry) {
      const lines = withoutFences(readFileSync(join(root, file), "utf8"));
      entry = { links: linksOf(withoutInlineCode(lines)), anchors: anchorsOf(lines) };
      parsed.set(file, entry);
    }
    return entry;
  };
  /** Whether `path` (relative, `/`) is a file or directory that is part of the tree (committed or not ignored). */
  const exists = (path: string) => {
    if (path === "") return true;
    if (!existsSync(join(root, path))) return false;
    if (known === null || known.has(path)) return true;
    const prefix = `${path.replace(/\/$/, "")}/`;
    for (const f of known) if (f.startsWith(prefix)) return true;
    return false;
  };

  const broken: Broken[] = [];
  let count = 0;
  for (const file of files) {
    for (const link of parse(file).links) {
      const { target } = link;
      if (target === "" || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
      count++;
      const hash = target.indexOf("#");
      const pathPart = (hash >= 0 ? target.slice(0, hash) : target).replace(/\?.*$/, "");
      const anchor = hash >= 0 ? target.slice(hash + 1) : null;
      let decoded: string;
      let decodedAnchor: string | null;
      try {
        decoded = decodeURIComponent(pathPart);
        decodedAnchor = anchor === null ? null : decodeURIComponent(anchor);
      } catch {
        broken.push({ file, ...link, reason: "malformed percent-encoding" });
        continue;
      }
      const absolute = decoded.startsWith("/") ? join(root, decoded) : resolve(root, dirname(file), decoded);
      const rel = relative(root, absolute).split(sep).join("/");
      const resolved = decoded === "" ? file : rel;
      if (rel === ".." || rel.startsWith("../")) {
        broken.push({ file, ...link, reason: "outside the repository" });
        continue;
      }
      if (decoded !== "" && !exists(rel)) {
        const ignored = existsSync(absolute);
        broken.push({ file, ...link, reason: ignored ? "not committed (ignored by git)" : "no such file" });
        continue;
      }
      if (decodedAnchor === null || decodedAnchor === "") continue;
      if (!resolved.endsWith(".md") || statSync(join(root, resolved)).isDirectory()) continue;
      if (!parse(resolved).anchors.has(decodedAnchor)) {
        broken.push({ file, ...link, reason: `no heading #${decodedAnchor} in ${resolved}` });
      }
    }
  }
  return { broken, files: files.length, links: count };
}

const rootArg = process.argv.indexOf("--root");
const root = resolve(rootArg >= 0 ? (process.argv[rootArg + 1] ?? ".") : join(import.meta.dirname, ".."));
const { broken, files, links } = checkLinks(root);
for (const b of broken) console.error(`${b.file}:${b.line}: ${b.target} (${b.reason})`);
if (broken.length > 0) {
  console.error(`${broken.length} broken link${broken.length === 1 ? "" : "s"} in ${files} markdown files.`);
  process.exit(1);
}
console.log(`${links} relative links in ${files} markdown files resolve.`);
