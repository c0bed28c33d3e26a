import { type EightByEightDataset, generateEightByEightDataset } from "../data/eightbyeight";
import { SimulatorState } from "../shared/state";

export type EightByEightState = SimulatorState<EightByEightDataset>;

/** 8x8 documents limit 1..500 and is held to it: no hidden cap by default. */
export function createEightByEightState(): EightByEightState {
  return new SimulatorState(generateEightByEightDataset, { tie_order: "hidden", page_size_cap: null });
}
