import { generateInkitDataset } from "../data/inkit";
import type { InkitDataset } from "../data/inkit-records";
import { INKIT_DEFAULT_PAGE_SIZE_CAP } from "../shared/settings";
import { SimulatorState } from "../shared/state";

export type InkitState = SimulatorState<InkitDataset>;

interface InkitOptions {
  /** The default (and after reset) silent page-size cap; null for none. Default 100. */
  pageSizeCap?: number | null;
}

export function createInkitState(options: InkitOptions = {}): InkitState {
  return new SimulatorState(generateInkitDataset, {
    tie_order: "hidden",
    page_size_cap: options.pageSizeCap === undefined ? INKIT_DEFAULT_PAGE_SIZE_CAP : options.pageSizeCap,
  });
}
