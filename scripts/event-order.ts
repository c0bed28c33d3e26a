/**
 * What a webhook consumer needs to never go back to an older state: deliveries are at least once, retried, replayed
 * and concurrent, so they arrive in any order. Every run and batch event carries `sequence`, strictly increasing per
 * object; keep the highest one applied per object and drop everything not above it (a duplicate or an older state).
 * Used by the demo consumer (scripts/webhook-consumer.ts) and the test consumer (test/setup/webhook-consumer.ts).
 */
export interface OrderedEvent {
  type: string;
  sequence?: number;
  data: { object: { id?: string; provider?: string } };
}

export type Verdict = "apply" | "stale";

/** The object an event is about: provider and id (ids are unique per provider). */
export const objectKey = (event: OrderedEvent) => `${event.data.object.provider ?? ""}:${event.data.object.id ?? ""}`;

export class EventOrder {
  private readonly highest = new Map<string, number>();

  /**
   * Decides about one verified event and remembers it when applied. Events without a sequence (`ping`) concern no
   * run or batch and always apply.
   */
  accept(event: OrderedEvent): Verdict {
    if (event.sequence === undefined) return "apply";
    const key = objectKey(event);
    const seen = this.highest.get(key);
    if (seen !== undefined && event.sequence <= seen) return "stale";
    this.highest.set(key, event.sequence);
    return "apply";
  }

  /** The highest sequence applied for an object, if any. */
  applied(key: string): number | undefined {
    return this.highest.get(key);
  }
}
