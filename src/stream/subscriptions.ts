import type { EventSubscription } from "../schemas/event-subscription";
import type { SubscribableEventType } from "../schemas/events";
import { strongEntityTag } from "../shared/entity-tag";
import { newId } from "../shared/ids";
import { isoMicros } from "../shared/time";
import { type AnswerStatements, noAnswer } from "../storage/answer-statements";
import { insertSubscription, type SubscriptionRow, saveSubscription } from "./subscription-store";

/** The API shape of a subscription row. */
export function toSubscription(row: SubscriptionRow): EventSubscription {
  return {
    id: row.id,
    description: row.description,
    event_types: row.event_types === null ? null : (JSON.parse(row.event_types) as SubscribableEventType[]),
    sources: JSON.parse(row.sources) as string[],
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

interface SubscriptionFields {
  description: string | null;
  eventTypes: SubscribableEventType[] | null;
  /** Canonical source keys. */
  sources: string[];
}

/** The strong entity tag of a subscription's state: the `ETag` its GET carries, compared with `If-Match`. */
export const subscriptionTag = (row: SubscriptionRow) => strongEntityTag(JSON.stringify(toSubscription(row)));

const typesColumn = (types: SubscribableEventType[] | null) => (types === null ? null : JSON.stringify(types));

/** Creates a poll-only subscription owned by `tenant`. */
export async function createSubscription(
  db: D1Database,
  tenant: string,
  fields: SubscriptionFields,
  answer: AnswerStatements<SubscriptionRow> = noAnswer,
): Promise<SubscriptionRow> {
  const now = isoMicros(Date.now());
  const row: SubscriptionRow = {
    id: newId("sub"),
    tenant,
    description: fields.description,
    event_types: typesColumn(fields.eventTypes),
    sources: JSON.stringify(fields.sources),
    created_at: now,
    updated_at: now,
  };
  await insertSubscription(db, row, await answer(row));
  return row;
}

/**
 * Applies a patch (absent fields stay as they are); returns the updated row. `guarded` (a write under If-Match): only
 * if the stored row is still `row`, else null.
 */
export async function updateSubscription(
  db: D1Database,
  row: SubscriptionRow,
  patch: Partial<SubscriptionFields>,
  guarded = false,
): Promise<SubscriptionRow | null> {
  const next: SubscriptionRow = {
    ...row,
    description: patch.description === undefined ? row.description : patch.description,
    event_types: patch.eventTypes === undefined ? row.event_types : typesColumn(patch.eventTypes),
    sources: patch.sources === undefined ? row.sources : JSON.stringify(patch.sources),
    updated_at: isoMicros(Date.now()),
  };
  return (await saveSubscription(db, next, guarded ? row : undefined)) ? next : null;
}
