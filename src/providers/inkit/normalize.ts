import { type Batch, type BatchDestination, type BatchKind, inkitBatchStatusTable } from "../../schemas/batch";
import {
  type InkitDestinationType,
  type InkitRunNormalized,
  inkitRunStatusTable,
  type RunDestination,
  statusMapper,
} from "../../schemas/run";
import { toRfc3339 } from "../../shared/time";
import type { InkitBatch, InkitRun } from "./schemas";

/** Maps Inkit's run status text to a normalized run status (case-insensitive; unlisted text → `unknown`). */
export const inkitRunStatus = statusMapper(inkitRunStatusTable);

/** Maps Inkit's batch status text to a normalized batch status (case-insensitive; unlisted text → `unknown`). */
export const inkitBatchStatus = statusMapper(inkitBatchStatusTable);

const pieceIdKeys = new Map<string, string>(
  Object.entries({
    amazon_s3: "amazon_s3_piece_id",
    box: "box_piece_id",
    docusign: "docusign_piece_id",
    dropbox: "dropbox_piece_id",
    google_drive: "google_drive_piece_id",
    inkit_storage: "document_id",
    magic_link: "magic_link_piece_id",
    salesforce: "salesforce_piece_id",
    sepire: "mail_piece_id",
  } satisfies Record<InkitDestinationType, string>),
);

const text = (v: unknown) => (typeof v === "string" ? v : null);

// Code-unit order, not localeCompare: the order must not depend on the runtime's locale.
const byType = <T extends { type: string }>(a: T, b: T) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0);

function runDestination(type: string, fields: Record<string, unknown>): RunDestination {
  // A type Inkit adds later most likely follows the `<something>_piece_id` convention.
  const pieceIdKey = pieceIdKeys.get(type) ?? Object.keys(fields).find((k) => k.endsWith("_piece_id"));
  return {
    type,
    status: text(fields.status),
    piece_id: pieceIdKey === undefined ? null : text(fields[pieceIdKey]),
    document_name: type === "inkit_storage" ? text(fields.name) : null,
  };
}

/**
 * Normalizes a validated Inkit run (an item of `GET /v1/invoke`).
 *
 * @example normalizeInkitRun(InkitRunSchema.parse(item)).status // "completed"
 */
export function normalizeInkitRun(item: InkitRun): InkitRunNormalized {
  const destinations = Object.entries(item.destinations)
    .filter((entry): entry is [string, Record<string, unknown>] => entry[1] != null)
    .map(([type, fields]) => runDestination(type, fields))
    .sort(byType);
  return {
    id: item.id,
    provider: "inkit",
    status: inkitRunStatus(item.status),
    provider_status: item.status,
    name: item.name,
    created_at: toRfc3339(item.created_at),
    completed_at: null,
    workflow: item.flow_id ? { id: item.flow_id, name: item.flow_name, version: null } : null,
    batch_id: item.flows_batch_id,
    description: item.description,
    destination_status: item.destination_status,
    destinations,
    merge_parameters: item.merge_parameters,
    template: item.template_id ? { id: item.template_id, version: item.template_version } : null,
    workflow_created_at: item.flow_created_at === null ? null : toRfc3339(item.flow_created_at),
  };
}

/**
 * Normalizes a validated Inkit batch: `workflow_batch` from `GET /v1/invoke/batch`, `document_batch` from `GET /v1/batch`.
 *
 * @example normalizeInkitBatch(InkitBatchSchema.parse(body), "document_batch").status // "completed"
 */
export function normalizeInkitBatch(item: InkitBatch, kind: BatchKind): Batch {
  const destinations: BatchDestination[] = Object.entries(item.destinations)
    .map(([type, d]) => ({
      type,
      count: d.count,
      completed: d.completed,
      failed: d.failed,
      in_progress: d.in_progress,
      status: d.status ?? null,
    }))
    .sort(byType);
  return {
    id: item.id,
    provider: "inkit",
    kind,
    name: item.name,
    status: inkitBatchStatus(item.status),
    provider_status: item.status,
    total: item.total,
    created_at: toRfc3339(item.created_at),
    destinations,
  };
}
