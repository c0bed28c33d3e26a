/** One hot-path measurement, as the workerd bench writes it and the runner reads it. */
export interface HotPathTiming {
  name: string;
  iterationsPerSample: number;
  samples: number;
  medianMs: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
}
