/** An upstream credential and whether the caller supplied it (pass-through) or it is the configured secret. */
export interface Credential {
  value: string;
  passThrough: boolean;
}
