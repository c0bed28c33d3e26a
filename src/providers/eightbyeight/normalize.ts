import { type EightByEightRunNormalized, eightByEightStatusTable, statusMapper } from "../../schemas/run";
import { toRfc3339 } from "../../shared/time";
import type { EightByEightInstance } from "./schemas";

/** Maps 8x8's instance status to a normalized run status (case-insensitive; unlisted text → `unknown`). */
export const eightByEightStatus = statusMapper(eightByEightStatusTable);

/**
 * Normalizes a validated 8x8 workflow instance. `context` is the upstream `data` object itself, untouched.
 *
 * @example normalizeEightByEightInstance(EightByEightInstanceSchema.parse(item)).workflow.version // 1
 */
export function normalizeEightByEightInstance(item: EightByEightInstance): EightByEightRunNormalized {
  const { data } = item;
  return {
    id: item.workflowId,
    provider: "8x8",
    status: eightByEightStatus(item.status),
    provider_status: item.status,
    name: null,
    created_at: toRfc3339(item.startedAt),
    completed_at: item.completedAt === null ? null : toRfc3339(item.completedAt),
    workflow: { id: item.definitionId, name: null, version: item.version },
    batch_id: null,
    account_id: data.accountId,
    sub_account_id: data.subAccountId ?? null,
    triggered_at: data.triggeredAt == null ? null : toRfc3339(data.triggeredAt),
    definition_id: item.definitionId,
    context: data,
  };
}
