/**
 * Why a walk cannot go on, in the walk engine's own terms. The engine knows nothing of HTTP: the edge turns each
 * kind into its problem document (http/walk-problems.ts).
 */
type WalkFailure =
  /** Paging cannot work in this deployment: no cursor secret, or one too short to sign with. */
  | "unconfigured"
  /** The cursor is modified, malformed, foreign to this listing, caller or filters. */
  | "invalid-cursor"
  /** The cursor outlived its lifetime. */
  | "cursor-expired";

/** A parameter of the request that disagrees with the cursor's walk. */
export interface WalkMismatch {
  name: string;
  message: string;
}

export class WalkError extends Error {
  constructor(
    readonly failure: WalkFailure,
    readonly detail: string,
    /** The request's parameters that differ from the values the cursor's walk was started with. */
    readonly mismatches: WalkMismatch[] = [],
  ) {
    super(detail);
    this.name = "WalkError";
  }
}
