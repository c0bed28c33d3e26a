/** One request a hook received, as the test consumer saw it on the wire (shared by the Node side and the tests). */
export interface ReceivedDelivery {
  at: number;
  headers: Record<string, string>;
  body: string;
  /** Indices of the configured secrets whose signature verified (standardwebhooks); null when none configured. */
  verifiedBy: number[] | null;
  /** The status the consumer answered with. */
  answered: number;
  /**
   * For an acknowledged delivery, what the consumer's ordering did with it (scripts/event-order.ts): `apply`, or
   * `stale` when its `sequence` was not above the highest applied for its object. Null when not acknowledged.
   */
  verdict: "apply" | "stale" | null;
}
