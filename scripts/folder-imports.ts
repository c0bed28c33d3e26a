// Imports between the folders of a source tree, and the arrows that point up against a layer order (top first):
// what `npm run layers` forbids, counted for any tree, e.g. an old commit checked out elsewhere.
//   npx tsx scripts/folder-imports.ts [dir=src] ['["routes","http|app-env.ts", …]']
// A folder is a top-level directory of `dir`; a file at the top counts as `(root)/<name>`. An entry of the order may
// join several folders with `|`; folders missing from it are left out of the count.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const [root = "src", orderJson] = process.argv.slice(2);
const order: string[] = orderJson ? JSON.parse(orderJson) : [];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|js)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const folderOf = (path: string) => {
  const parts = relative(resolve(root), path).split("/");
  return parts.length === 1 ? `(root)/${parts[0]}` : (parts[0] as string);
};
const target = (from: string, spec: string) => {
  const base = resolve(dirname(from), spec);
  return [base, `${base}.ts`, `${base}/index.ts`].find((p) => existsSync(p) && statSync(p).isFile()) ?? base;
};

const arrows = new Map<string, { imports: number; typeOnly: number }>();
for (const file of files(resolve(root))) {
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^'"]*?from\s+["'](\.[^"']+)["']/gms)) {
    const [from, to] = [folderOf(file), folderOf(target(file, m[2] as string))];
    if (from === to || to.startsWith("..")) continue;
    const arrow = arrows.get(`${from} -> ${to}`) ?? { imports: 0, typeOnly: 0 };
    arrow.imports += 1;
    if (m[1]) arrow.typeOnly += 1;
    arrows.set(`${from} -> ${to}`, arrow);
  }
}

const rank = (folder: string) => order.findIndex((entry) => entry.split("|").includes(folder));
let up = 0;
for (const [arrow, { imports, typeOnly }] of [...arrows].sort()) {
  const [from, to] = arrow.split(" -> ") as [string, string];
  const points = rank(from) >= 0 && rank(to) >= 0 && rank(to) < rank(from) ? "UP  " : "    ";
  if (points.trim()) up += 1;
  console.log(`${points}${arrow}  (${imports} imports${typeOnly ? `, ${typeOnly} type-only` : ""})`);
}
if (order.length > 0) console.log(`arrows pointing up: ${up}`);
