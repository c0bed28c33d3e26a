import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { forgetLeases } from "../../src/upstream/budget";
import type { BudgetStats, UpstreamBudget } from "../../src/upstream/budget-object";

/**
 * Every upstream account's budget as a new deployment has it: no object keeps a bucket or a pause, and this isolate
 * holds no granted tokens (a test that injects a 429 pauses its account, for as long as its Retry-After says).
 */
export async function resetBudgets(): Promise<void> {
  forgetLeases();
  const namespace = env.UPSTREAM_BUDGET as DurableObjectNamespace<UpstreamBudget>;
  for (const id of await listDurableObjectIds(namespace)) {
    await runInDurableObject(namespace.get(id), (instance) => instance.reset());
  }
}

/** The round trips every account's object answered since it started, summed. */
export async function budgetRoundTrips(): Promise<BudgetStats> {
  const namespace = env.UPSTREAM_BUDGET as DurableObjectNamespace<UpstreamBudget>;
  const total: BudgetStats = { grants: 0, granted: 0, refused: 0, pauses: 0 };
  for (const id of await listDurableObjectIds(namespace)) {
    const counts = await namespace.get(id).counts();
    total.grants += counts.grants;
    total.granted += counts.granted;
    total.refused += counts.refused;
    total.pauses += counts.pauses;
  }
  return total;
}
