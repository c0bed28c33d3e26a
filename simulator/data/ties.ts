import type { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../credentials";
import { int, type Rng, shuffle } from "./random";

/**
 * Exact timestamp ties in the seeded data. Neither vendor documents how tied items are ordered, so the simulators
 * make ties common and serve them in an order unrelated to ids (see simulator/README.md, "Ties").
 */

/** Share of a list's items that sit in small tie groups (2 to 5 items with the same timestamp). */
const TIE_FRACTION = 0.08;
export const MAX_SMALL_TIE = 5;

/**
 * Group sizes for `count` items: mostly 1, and groups of 2..5 that hold at least `fraction` of the items (at least
 * one pair when count >= 2, so even tiny lists have a tie). Shuffled, so tie groups spread over the time range.
 */
export function planTieGroups(rng: Rng, count: number, fraction = TIE_FRACTION): number[] {
  const target = Math.min(count, Math.max(2, Math.ceil(count * fraction)));
  const sizes: number[] = [];
  let tied = 0;
  while (tied < target && count - tied >= 2) {
    const size = int(rng, 2, Math.min(MAX_SMALL_TIE, count - tied));
    sizes.push(size);
    tied += size;
  }
  for (let i = tied; i < count; i++) sizes.push(1);
  return shuffle(rng, sizes);
}

/** The one big tie group per tenant on Inkit runs and on orderNotifications v2: more than a page of 50, under 100. */
export const BIG_TIE_GROUP = 60;

type DemoDefinition = keyof typeof EIGHT_BY_EIGHT_DEFINITION_IDS.demo;

/**
 * Instants shared by Inkit runs and 8x8 instances of the demo tenant (8x8 keeps milliseconds, Inkit microseconds,
 * so these are whole milliseconds). Each 8x8 entry is one instance in that definition's latest version. One is a
 * whole second, which 8x8 prints without a fraction (`…:42Z`).
 */
export const CROSS_PROVIDER_TIES: readonly { at: string; inkitRuns: number; eightByEight: DemoDefinition[] }[] = [
  { at: "2026-10-31T23:59:59.999Z", inkitRuns: 1, eightByEight: ["orderNotifications", "appointmentReminders"] },
  { at: "2026-10-30T12:00:00.490Z", inkitRuns: 1, eightByEight: ["orderNotifications"] },
  { at: "2026-10-29T08:15:42.000Z", inkitRuns: 1, eightByEight: ["smsKeywordRouter"] },
  { at: "2026-10-28T17:03:11.007Z", inkitRuns: 1, eightByEight: ["appointmentReminders"] },
  { at: "2026-10-25T09:30:00.120Z", inkitRuns: 2, eightByEight: ["orderNotifications", "smsKeywordRouter"] },
  { at: "2026-10-20T22:45:05.500Z", inkitRuns: 1, eightByEight: ["orderNotifications", "orderNotifications"] },
];

/** Chance that an admin insert burst starts at the current newest item's timestamp (unless `tie_head` says). */
export const HEAD_TIE_CHANCE = 0.25;
/** Chance that an inserted item shares the previous inserted item's timestamp (groups stay at most 5). */
export const INSERT_TIE_CHANCE = 0.3;

/** How tied items are ordered in a response; switchable at run time through `POST /__admin/settings`. */
type TieOrder = "hidden" | "window";

/**
 * The rank of an item among its ties. "hidden": its fixed hidden key, the same in every response and both sort
 * directions. "window": a hash of the key and the request's window, as SQL `ORDER BY created_at LIMIT/OFFSET` on a
 * non-unique column may do, so each window can see a tie group in a different order.
 */
export function tieRanker(order: TieOrder, window: string): (key: number) => number {
  if (order === "hidden") return (key) => key;
  const salt = fnv1a(window);
  return (key) => mix32(key ^ salt);
}

/** A 32-bit finalizer (from MurmurHash3): every input bit affects every output bit. */
function mix32(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
