import { compareNewestFirst } from "../../src/paging/order";
import { toRfc3339 } from "../../src/providers/time";
import { eightByEightSim, inkitSim } from "./simulator";

export interface TruthItem {
  id: string;
  created_at: string;
  provider: "inkit" | "8x8";
}

/** A walkable collection of the simulators: how to read its truth and how to insert at its head. */
export interface Collection {
  name: string;
  truth: () => Promise<TruthItem[]>;
  insert: (count: number) => Promise<void>;
}

export const inkitCollection = (kind: "run" | "workflow_batch" | "document_batch"): Collection => ({
  name: `inkit ${kind}`,
  truth: async () =>
    (await inkitSim.items<{ id: string; created_at: string }>({ kind })).items.map((i) => ({
      id: i.id,
      created_at: toRfc3339(i.created_at),
      provider: "inkit",
    })),
  insert: async (count) => {
    if (count > 0) await inkitSim.insert({ kind, count });
  },
});

export const eightByEightCollection = (definitionId: string, version: number): Collection => ({
  name: `8x8 ${definitionId}`,
  truth: async () =>
    (
      await eightByEightSim.items<{ workflowId: string; startedAt: string }>({ definitionId, version: String(version) })
    ).items.map((i) => ({ id: i.workflowId, created_at: toRfc3339(i.startedAt), provider: "8x8" })),
  insert: async (count) => {
    if (count > 0) await eightByEightSim.insert({ definitionId, count });
  },
});

/** The merged feed's order: newest first, ties by provider, then id (newest-first). */
export function mergeTruth(lists: TruthItem[][]): TruthItem[] {
  return lists.flat().sort((a, b) => {
    if (a.created_at !== b.created_at || a.provider === b.provider) return compareNewestFirst(a, b);
    return a.provider < b.provider ? -1 : 1;
  });
}
