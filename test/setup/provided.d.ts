// Values the global setup provides to tests (see simulators.ts).
declare module "vitest" {
  export interface ProvidedContext {
    inkitUrl: string;
    eightByEightUrl: string;
  }
}

export {};
