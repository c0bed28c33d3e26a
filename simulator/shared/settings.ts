import { z } from "zod";

/**
 * Run-time behaviour switches of a simulator, read on every request. `POST /__admin/settings` changes some keys;
 * `POST /__admin/reset` restores the start-up values.
 */
export const settingsSchema = z.strictObject({
  /** "hidden": ties in a fixed order unrelated to ids. "window": a tie group's order depends on the request window. */
  tie_order: z.enum(["hidden", "window"]),
  /** The most items one response serves, silently (null: no cap beyond the documented limits). */
  page_size_cap: z.number().int().min(1).nullable(),
});

export type SimulatorSettings = z.infer<typeof settingsSchema>;

/** What `POST /__admin/settings` accepts: any subset of the keys, nothing else. */
export const settingsUpdateSchema = settingsSchema.partial();

/** Inkit serves at most 100 items per page unless configured otherwise (its docs name no maximum). */
export const INKIT_DEFAULT_PAGE_SIZE_CAP = 100;

/**
 * SIM_INKIT_PAGE_SIZE_CAP for `npm run simulator` and `npm start`: a positive integer, or "none" for no cap.
 * Unset or empty means the default (100).
 */
export function inkitPageSizeCapFromEnv(raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === "") return INKIT_DEFAULT_PAGE_SIZE_CAP;
  if (raw.trim().toLowerCase() === "none") return null;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`SIM_INKIT_PAGE_SIZE_CAP must be a positive integer or "none", got "${raw}"`);
  return value;
}
