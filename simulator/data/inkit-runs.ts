import { type InkitDestinationName, mergeParameters, type PIECE_ID_FIELDS, PIECE_ID_PREFIXES } from "./inkit-catalog";
import type { FlowRecord, InkitRun, InkitRunDestination, Stored, TemplateRecord } from "./inkit-records";
import { chance, type IdMinter, int, pick, type Rng, tieKey, weighted } from "./random";
import { formatMicros, isRecent, NOW_US, SECOND_US } from "./time";
import { RUN_DESCRIPTIONS, RUN_NAMES } from "./vocabulary";

// Building one Inkit run (`GET /v1/invoke` item) with self-consistent statuses.

/** Realistic: old runs have mostly settled, recent ones are often still in flight. */
function runStatusFor(rng: Rng, createdUs: number): string {
  return isRecent(createdUs)
    ? weighted(rng, [
        ["Completed", 60],
        ["In Progress", 18],
        ["Pending", 12],
        ["Failed", 10],
      ])
    : weighted(rng, [
        ["Completed", 90],
        ["Failed", 7],
        ["In Progress", 2],
        ["Pending", 1],
      ]);
}

/** The status of one destination piece given the run's status. */
function pieceStatus(rng: Rng, runStatus: string, destination: InkitDestinationName): string {
  switch (runStatus) {
    case "Completed":
      return destination === "inkit_storage"
        ? "Completed"
        : weighted(rng, [
            ["Completed", 92],
            ["Failed", 6],
            ["In Progress", 2],
          ]);
    case "In Progress":
      return destination === "inkit_storage"
        ? pick(rng, ["Completed", "In Progress"])
        : pick(rng, ["In Progress", "Pending"]);
    default:
      return runStatus;
  }
}

/** The run-level destination_status: the worst piece status wins. */
function aggregateDestinationStatus(statuses: readonly string[]): string {
  for (const worst of ["Failed", "In Progress", "Pending"]) if (statuses.includes(worst)) return worst;
  return statuses[0] ?? "Completed";
}

/** Builds one run. Exported for admin inserts. */
export function buildRun(
  rng: Rng,
  ids: IdMinter,
  createdUs: number,
  source: FlowRecord | TemplateRecord,
  options: { batchId?: string; status?: string } = {},
): Stored<InkitRun> {
  const status = options.status ?? runStatusFor(rng, createdUs);
  const documentName = source.kind === "flow" ? `${source.name}.pdf` : source.documentName;
  const destinations: Partial<Record<InkitDestinationName, InkitRunDestination>> = {};
  for (const destination of source.destinations) {
    const piece = pieceStatus(rng, status, destination);
    destinations[destination] =
      destination === "inkit_storage"
        ? { document_id: ids.next("doc"), name: documentName, status: piece }
        : pieceOf(destination, ids.next(PIECE_ID_PREFIXES[destination]), piece);
  }
  const pieceStatuses = Object.values(destinations).map((piece) => piece.status);
  const item: InkitRun = {
    created_at: formatMicros(createdUs),
    description: chance(rng, 0.1) ? pick(rng, RUN_DESCRIPTIONS) : null,
    destination_status: aggregateDestinationStatus(pieceStatuses),
    destinations,
    flow_created_at: source.kind === "flow" ? source.createdAt : null,
    flow_id: source.kind === "flow" ? source.id : null,
    flow_name: source.kind === "flow" ? source.name : null,
    flows_batch_id: options.batchId ?? null,
    id: ids.next("rend"),
    merge_parameters: mergeParameters(rng, chance(rng, 0.05) ? [] : source.mergeParameters),
    name: chance(rng, 0.12) ? pick(rng, RUN_NAMES) : null,
    status,
    template_id: source.kind === "template" ? source.id : null,
    template_version: source.kind === "template" ? templateVersion(rng, source.latestVersion) : null,
  };
  return { item, createdUs, updatedUs: settledAt(rng, createdUs, status), tieKey: tieKey(rng) };
}

/**
 * `{<field>: id, status}` with the documented field name. Spelled out as
 * literals because computed keys make slow dictionary-mode objects.
 */
function pieceOf(destination: keyof typeof PIECE_ID_FIELDS, id: string, status: string): InkitRunDestination {
  switch (destination) {
    case "amazon_s3":
      return { amazon_s3_piece_id: id, status };
    case "box":
      return { box_piece_id: id, status };
    case "docusign":
      return { docusign_piece_id: id, status };
    case "dropbox":
      return { dropbox_piece_id: id, status };
    case "google_drive":
      return { google_drive_piece_id: id, status };
    case "magic_link":
      return { magic_link_piece_id: id, status };
    case "salesforce":
      return { salesforce_piece_id: id, status };
    case "sepire":
      return { mail_piece_id: id, status };
  }
}

function templateVersion(rng: Rng, latest: number): number {
  return latest > 1 && chance(rng, 0.25) ? int(rng, 1, latest - 1) : latest;
}

/** When a generated item last changed: a little after creation, sometimes much later (a retried piece). */
function settledAt(rng: Rng, createdUs: number, status: string): number {
  if (createdUs >= NOW_US) return createdUs;
  const delay = status === "Pending" ? 0 : chance(rng, 0.05) ? int(rng, 3600, 10 * 86400) : int(rng, 1, 300);
  return Math.max(createdUs, Math.min(createdUs + delay * SECOND_US + int(rng, 0, SECOND_US), NOW_US - 1));
}
