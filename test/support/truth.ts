// The expected order of every walk, computed here from the simulators' raw items, with no facade code: a test that
// shared the facade's order logic could not catch a mistake in it.
import { eightByEightSim, inkitSim } from "./simulator";

export type Provider = "inkit" | "8x8";
type Direction = "desc" | "asc";

export interface TruthItem {
  id: string;
  /** Normalized: UTC, exactly six fractional digits, `Z`; so comparing strings compares instants. */
  created_at: string;
  provider: Provider;
}

/** A walkable collection of the simulators: how to read its truth and how to insert at its head. */
export interface Collection {
  name: string;
  /** Every item, in tributary's provider-route order, newest first. */
  truth: () => Promise<TruthItem[]>;
  insert: (count: number) => Promise<void>;
}

const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An upstream timestamp as UTC with exactly six fractional digits and `Z`: `…:39.49Z` → `…:39.490000Z`,
 * `…:39Z` → `…:39.000000Z`, `…T04:31:22.5+02:00` → `…T02:31:22.500000Z`. Digits past the sixth are dropped.
 */
export function normalizeTimestamp(text: string): string {
  const match = RFC_3339.exec(text);
  if (match === null) throw new Error(`not an RFC 3339 timestamp: ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, fraction = "", zone = "Z"] = match;
  const offsetMinutes =
    zone === "Z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)));
  const seconds =
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMinutes * 60_000;
  return `${new Date(seconds).toISOString().slice(0, 19)}.${fraction.slice(0, 6).padEnd(6, "0")}Z`;
}

/** Plain JS string order (UTF-16 code units), not locale order. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Provider routes: created_at, then id, both in the sort's direction. */
function compareProviderItems(a: TruthItem, b: TruthItem, direction: Direction = "desc"): number {
  const sign = direction === "desc" ? -1 : 1;
  return sign * (compareText(a.created_at, b.created_at) || compareText(a.id, b.id));
}

/** A provider route's items in tributary's order (a new array). */
export function providerOrder(items: readonly TruthItem[], direction: Direction = "desc"): TruthItem[] {
  return [...items].sort((a, b) => compareProviderItems(a, b, direction));
}

/** Merged feed: created_at descending, then provider ascending ("8x8" < "inkit"), then id descending. */
function compareMergedItems(a: TruthItem, b: TruthItem): number {
  return compareText(b.created_at, a.created_at) || compareText(a.provider, b.provider) || compareText(b.id, a.id);
}

/** The merged feed's order over any number of provider lists. */
export function mergeTruth(lists: readonly (readonly TruthItem[])[]): TruthItem[] {
  return lists.flat().sort(compareMergedItems);
}

type InkitKind = "run" | "workflow_batch" | "document_batch";

/** Every item of an Inkit list (optionally filtered as the admin dump filters: search, destination_status, …). */
export async function inkitTruth(
  kind: InkitKind,
  filters: Record<string, string> = {},
  direction: Direction = "desc",
): Promise<TruthItem[]> {
  const { items } = await inkitSim.items<{ id: string; created_at: string }>({ ...filters, kind });
  const normalized = items.map(
    (i): TruthItem => ({ id: i.id, created_at: normalizeTimestamp(i.created_at), provider: "inkit" }),
  );
  return providerOrder(normalized, direction);
}

/** 8x8 keeps milliseconds: more than three meaningful fractional digits in startedAt means the data is not 8x8's. */
const EIGHT_BY_EIGHT_STARTED_AT = /^[^.]*(?:\.\d{1,3})?Z$/;

/** Every instance of one 8x8 definition version (optionally filtered: status, startTimeFrom, startTimeTo). */
export async function eightByEightTruth(
  definitionId: string,
  version: number,
  filters: Record<string, string> = {},
): Promise<TruthItem[]> {
  const { items } = await eightByEightSim.items<{ workflowId: string; startedAt: string }>({
    ...filters,
    definitionId,
    version: String(version),
  });
  const normalized = items.map((i): TruthItem => {
    if (!EIGHT_BY_EIGHT_STARTED_AT.test(i.startedAt)) throw new Error(`8x8 startedAt finer than ms: ${i.startedAt}`);
    return { id: i.workflowId, created_at: normalizeTimestamp(i.startedAt), provider: "8x8" };
  });
  return providerOrder(normalized, "desc");
}

export const inkitCollection = (kind: InkitKind, filters: Record<string, string> = {}): Collection => ({
  name: `inkit ${kind}`,
  truth: () => inkitTruth(kind, filters),
  insert: async (count) => {
    if (count > 0) await inkitSim.insert({ kind, count });
  },
});

export const eightByEightCollection = (
  definitionId: string,
  version: number,
  filters: Record<string, string> = {},
): Collection => ({
  name: `8x8 ${definitionId}`,
  truth: () => eightByEightTruth(definitionId, version, filters),
  insert: async (count) => {
    if (count > 0) await eightByEightSim.insert({ definitionId, count });
  },
});

/** Groups of items sharing created_at (size >= 2), in list order: for tests that look at ties. */
export function tieGroups<T>(items: readonly T[], timestamp: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = timestamp(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return [...groups.values()].filter((group) => group.length > 1);
}
