import type { InkitDestinationName } from "./inkit-catalog";
import type { InkitBatch, InkitBatchDestination, Stored } from "./inkit-records";
import { chance, type IdMinter, int, pick, type Rng, tieKey, weighted } from "./random";
import { formatMicros, isRecent, NOW_US, SECOND_US } from "./time";
import { BATCH_NAMES } from "./vocabulary";

// Building one Inkit workflow batch (`fb_`) or document batch (`rb_`) with counts that add up.

function batchStatusFor(rng: Rng, createdUs: number): string {
  return isRecent(createdUs)
    ? weighted(rng, [
        ["Completed", 60],
        ["In Progress", 35],
        ["Failed", 5],
      ])
    : weighted(rng, [
        ["Completed", 91],
        ["Failed", 3],
        ["In Progress", 6],
      ]);
}

function batchTotal(rng: Rng): number {
  return weighted(rng, [
    [int(rng, 1, 5), 40],
    [int(rng, 6, 50), 35],
    [int(rng, 51, 500), 20],
    [int(rng, 501, 5000), 5],
  ]);
}

/** Per-destination counts consistent with the batch status. */
function batchDestination(rng: Rng, total: number, status: string): InkitBatchDestination {
  let completed = total;
  let failed = 0;
  let inProgress = 0;
  if (status === "Failed") {
    failed = total;
    completed = 0;
  } else if (status === "In Progress") {
    inProgress = int(rng, 1, total);
    failed = chance(rng, 0.2) ? int(rng, 0, Math.floor((total - inProgress) / 10)) : 0;
    completed = total - inProgress - failed;
  } else if (status === "Completed" && chance(rng, 0.2)) {
    failed = int(rng, 0, Math.ceil(total / 10));
    completed = total - failed;
  }
  return {
    completed,
    count: total,
    failed,
    in_progress: inProgress,
    status: batchDestinationStatus(completed, failed, inProgress),
  };
}

export function batchDestinationStatus(completed: number, failed: number, inProgress: number): string {
  if (inProgress > 0) return "in_progress";
  return failed > 0 && completed === 0 ? "failed" : "completed";
}

/** Builds one batch. Exported for admin inserts. */
export function buildBatch(
  rng: Rng,
  ids: IdMinter,
  kind: "workflow_batch" | "document_batch",
  createdUs: number,
  destinationNames: readonly InkitDestinationName[],
  options: { status?: string; allowEmpty?: boolean } = {},
): Stored<InkitBatch> {
  const status = options.status ?? batchStatusFor(rng, createdUs);
  const total = batchTotal(rng);
  // The docs show old batches stuck "In Progress" with no destinations at all: `destinations: {}`.
  const empty = options.allowEmpty !== false && status === "In Progress" && chance(rng, 0.4);
  const destinations: Partial<Record<InkitDestinationName, InkitBatchDestination>> = {};
  if (!empty)
    for (const name of [...destinationNames].sort()) destinations[name] = batchDestination(rng, total, status);
  const nullNameChance = kind === "document_batch" ? 0.6 : 0.15;
  const item: InkitBatch = {
    created_at: formatMicros(createdUs),
    destinations,
    id: ids.next(kind === "workflow_batch" ? "fb" : "rb"),
    name: chance(rng, nullNameChance) ? null : pick(rng, BATCH_NAMES),
    status,
    total,
  };
  const busySeconds = status === "In Progress" ? int(rng, 0, 60) : Math.ceil(total * (0.5 + rng() * 2.5));
  const updatedUs =
    createdUs >= NOW_US
      ? createdUs
      : Math.min(createdUs + busySeconds * SECOND_US + int(rng, 0, SECOND_US), NOW_US - 1);
  return { item, createdUs, updatedUs: Math.max(createdUs, updatedUs), tieKey: tieKey(rng) };
}
