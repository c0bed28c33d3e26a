// The longest functions of a TypeScript tree, by lines: where decisions and I/O may still be tangled.
//   npx tsx scripts/longest-functions.ts [dir=src] [count=10]
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

const [root = "src", count = "10"] = process.argv.slice(2);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const rows: { lines: number; name: string; where: string }[] = [];
for (const file of files(root)) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const line = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
      const start = line(node.getStart(source));
      const named = node.name ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name : undefined);
      rows.push({
        lines: line(node.getEnd()) - start + 1,
        name: named ? named.getText(source) : "(anonymous)",
        where: `${relative(".", file)}:${start}`,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
rows.sort((a, b) => b.lines - a.lines);
for (const r of rows.slice(0, Number(count))) console.log(`${String(r.lines).padStart(4)}  ${r.name}  ${r.where}`);
