import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { forgetLeases, seenAccounts } from "../../src/upstream/budget";
import type { BudgetStats, UpstreamBudget } from "../../src/upstream/budget-object";

/**
 * Every upstream account's budget as a new deployment has it: no object keeps a bucket, a pause or counts, and this
 * isolate holds no granted tokens (a test that injects a 429 pauses its account, for as long as its Retry-After says).
 * Only the accounts this isolate used since the last reset can differ from that, so only their objects are asked.
 */
export async function resetBudgets(): Promise<void> {
  forgetLeases();
  const namespace = env.UPSTREAM_BUDGET as DurableObjectNamespace<UpstreamBudget>;
  const accounts = [...seenAccounts];
  seenAccounts.clear();
  await Promise.all(
    accounts.map((key) => runInDurableObject(namespace.get(namespace.idFromName(key)), (instance) => instance.reset())),
  );
}

/** The round trips answered by the objects of the accounts used since the last reset, summed. */
export async function budgetRoundTrips(): Promise<BudgetStats> {
  const namespace = env.UPSTREAM_BUDGET as DurableObjectNamespace<UpstreamBudget>;
  const total: BudgetStats = { grants: 0, granted: 0, refused: 0, pauses: 0 };
  for (const key of seenAccounts) {
    const counts = await namespace.get(namespace.idFromName(key)).counts();
    total.grants += counts.grants;
    total.granted += counts.granted;
    total.refused += counts.refused;
    total.pauses += counts.pauses;
  }
  return total;
}
