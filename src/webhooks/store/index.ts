/** The webhook store: every D1 statement of webhooks, as typed functions (one file per group of tables). */
export * from "./deliveries";
export * from "./detection";
export * from "./endpoints";
export * from "./events";
export * from "./idempotency";
export * from "./listings";
export * from "./stream";
export * from "./subscriptions";
