// shapeOf: JSON → type skeleton, for comparing simulator answers with the vendors' documented examples.
// Primitives become their JSON type ("string", "number", "null", ...), objects keep their keys, and an array becomes
// the list of its *distinct* element skeletons, so a docs example and a full listing compare equal exactly when every
// simulator item has one of the docs' item shapes.

export type Shape = string | Shape[] | { [key: string]: Shape };

export interface ShapeRules {
  /** Paths of fields the docs show as both `<type>` and null: either becomes `<type>|null`. */
  nullable?: Record<string, string>;
  /** Paths whose contents vary (checked separately): any object there is recorded as just "object". */
  opaque?: string[];
  /** Paths of keys the docs show but do not require → their skeleton when present; present or absent → `<it>?`. */
  optional?: Record<string, string>;
}

export function shapeOf(value: unknown, rules: ShapeRules = {}, path = ""): Shape {
  if (Array.isArray(value)) {
    const distinct = new Map(value.map((element) => shapeOf(element, rules, `${path}[]`)).map((s) => [key(s), s]));
    return [...distinct.keys()].sort().map((k) => distinct.get(k) as Shape);
  }
  const type = value === null ? "null" : typeof value;
  const nullableAs = rules.nullable?.[path];
  if (nullableAs !== undefined && (type === "null" || type === nullableAs)) return `${nullableAs}|null`;
  if (type !== "object") return type;
  if (rules.opaque?.includes(path)) return "object";
  const shape: Record<string, Shape> = Object.fromEntries(
    Object.entries(value as object).map(([k, v]) => [k, shapeOf(v, rules, path === "" ? k : `${path}.${k}`)]),
  );
  for (const [optionalPath, present] of Object.entries(rules.optional ?? {})) {
    const split = optionalPath.lastIndexOf(".");
    if (optionalPath.slice(0, split) !== path) continue;
    const name = optionalPath.slice(split + 1);
    if (!(name in shape) || shape[name] === present) shape[name] = `${present}?`;
  }
  return shape;
}

/** Key-order-independent identity of a skeleton. */
export function key(shape: Shape): string {
  if (typeof shape === "string") return shape;
  if (Array.isArray(shape)) return `[${shape.map(key).join(",")}]`;
  return `{${Object.keys(shape)
    .sort()
    .map((k) => `${k}:${key(shape[k] as Shape)}`)
    .join(",")}}`;
}

/** The item at `index`, or a clear error instead of undefined. */
export function at<T>(items: readonly T[], index: number): T {
  const item = items.at(index);
  if (item === undefined) throw new Error(`no item at ${index} of ${items.length}`);
  return item;
}
