import type { Tenant } from "../credentials";
import type { FlowSpec, InkitDestinationName, TemplateSpec } from "./inkit-catalog";
import type { IdMinter, Rng } from "./random";
import type { HeadClock } from "./time";

/** The shapes of the Inkit simulator's data: items as served, and what it keeps beside them. */
/** One run (`GET /v1/invoke` item), keys in the order of the docs' example. */
export interface InkitRun {
  created_at: string;
  description: string | null;
  destination_status: string;
  destinations: Partial<Record<InkitDestinationName, InkitRunDestination>>;
  flow_created_at: string | null;
  flow_id: string | null;
  flow_name: string | null;
  flows_batch_id: string | null;
  id: string;
  merge_parameters: Record<string, string>;
  name: string | null;
  status: string;
  template_id: string | null;
  template_version: number | null;
}

/** `{<x>_piece_id, status}`, or `{document_id, name, status}` for inkit_storage. */
export type InkitRunDestination = { status: string } & Record<string, string>;

export interface InkitBatchDestination {
  completed: number;
  count: number;
  failed: number;
  in_progress: number;
  status: string;
}

/** One workflow batch (`fb_`) or document batch (`rb_`). */
export interface InkitBatch {
  created_at: string;
  destinations: Partial<Record<InkitDestinationName, InkitBatchDestination>>;
  id: string;
  name: string | null;
  status: string;
  total: number;
}

/** An item as served, plus what the simulator keeps for sorting (updated_at and tieKey are never exposed). */
export interface Stored<T> {
  readonly item: T;
  readonly createdUs: number;
  updatedUs: number;
  /** Orders this item among items with an equal sort key; unrelated to the id. */
  readonly tieKey: number;
}

export interface FlowRecord extends FlowSpec {
  id: string;
  createdAt: string;
}

export interface TemplateRecord extends TemplateSpec {
  id: string;
}

export interface InkitTenantData {
  /** Each collection is kept newest created first, ties by tieKey (the hidden tie order). */
  runs: Stored<InkitRun>[];
  workflowBatches: Stored<InkitBatch>[];
  documentBatches: Stored<InkitBatch>[];
  flows: readonly FlowRecord[];
  templates: readonly TemplateRecord[];
  /** Used by admin inserts and status changes, so they too are deterministic. */
  ids: IdMinter;
  rng: Rng;
  clock: HeadClock;
}

export type InkitDataset = Record<Tenant, InkitTenantData>;
