import { z } from "@hono/zod-openapi";

export const RUN_STATUSES = [
  "pending",
  "running",
  "completed",
  "failed",
  "suspended",
  "terminated",
  "unknown",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Upstream status text → normalized status. Matching is case-insensitive; text not listed maps to `unknown`. */
export type StatusTable<S extends string> = readonly (readonly [upstream: string, normalized: S])[];

// These tables are the mapping itself, not a copy of it: the normalizers and the OpenAPI descriptions both read them.
export const inkitRunStatusTable = [
  ["Pending", "pending"],
  ["Queued", "pending"],
  ["Scheduled", "pending"],
  ["In Progress", "running"],
  ["Processing", "running"],
  ["Running", "running"],
  ["Completed", "completed"],
  ["Failed", "failed"],
  ["Error", "failed"],
] as const satisfies StatusTable<RunStatus>;

export const eightByEightStatusTable = [
  ["Runnable", "running"],
  ["Suspended", "suspended"],
  ["Complete", "completed"],
  ["Terminated", "terminated"],
] as const satisfies StatusTable<RunStatus>;

/**
 * A case-insensitive lookup over a status table; text the table does not list maps to `"unknown"`.
 *
 * @example statusMapper(eightByEightStatusTable)("Runnable") // "running"
 */
export function statusMapper<S extends string>(table: StatusTable<S>): (text: string) => S | "unknown" {
  const byText = new Map(table.map(([upstream, normalized]) => [upstream.toLowerCase(), normalized]));
  return (text) => byText.get(text.trim().toLowerCase()) ?? "unknown";
}

/** A markdown table documenting status tables, one per upstream, for OpenAPI descriptions. */
export function statusTableMarkdown(tables: Record<string, StatusTable<string>>): string {
  const rows = Object.entries(tables).flatMap(([upstream, table]) => [
    ...table.map(([text, status]) => `| ${upstream} | \`${text}\` | \`${status}\` |`),
    `| ${upstream} | anything else | \`unknown\` |`,
  ]);
  return ["| upstream | `provider_status` (case-insensitive) | `status` |", "|---|---|---|", ...rows].join("\n");
}

const RFC3339_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A normalized timestamp: UTC, exactly six fractional digits, so string order is time order across providers. */
export const timestamp = (description: string, example: string | null) =>
  z.string().regex(RFC3339_MICROS).openapi({ format: "date-time", description, example });

const WorkflowRefSchema = z
  .object({
    id: z.string().openapi({
      description: "The workflow's id at its provider (Inkit flow id, 8x8 definition id).",
      example: "flow_1HsyLDikoFkeLg0ZkgIq57",
    }),
    name: z
      .string()
      .nullable()
      .openapi({ description: "The workflow's name, when the provider reports one (8x8 does not).", example: "Hi" }),
    version: z.number().int().nullable().openapi({
      description: "The workflow definition version, when the provider versions workflows (Inkit does not).",
      example: null,
    }),
  })
  .openapi("WorkflowRef", {
    description:
      "The workflow a run belongs to. Inkit: the flow (`flow_id`, `flow_name`; flows are not versioned). 8x8: the definition (`definitionId`, `version`; no name is reported).",
  });

/** The Inkit destination types known today. Inkit may add more; those are passed through under their own key. */
export const INKIT_DESTINATION_TYPES = [
  "amazon_s3",
  "box",
  "docusign",
  "dropbox",
  "google_drive",
  "inkit_storage",
  "magic_link",
  "salesforce",
  "sepire",
] as const;
export type InkitDestinationType = (typeof INKIT_DESTINATION_TYPES)[number];

/** Description of a destination `type` field: an open set, so a type Inkit adds later is never dropped. */
export const destinationTypeDescription = `Destination type: Inkit's key for it. Currently one of ${INKIT_DESTINATION_TYPES.map((t) => `\`${t}\``).join(", ")}; a type Inkit adds later appears under its own key.`;

export const RunDestinationSchema = z
  .object({
    type: z.string().openapi({ description: destinationTypeDescription, example: "inkit_storage" }),
    status: z
      .string()
      .nullable()
      .openapi({ description: "The destination's upstream status text.", example: "Completed" }),
    piece_id: z.string().nullable().openapi({
      description:
        "The document's id at the destination (`<type>_piece_id`; `mail_piece_id` for `sepire`; `document_id` for `inkit_storage`).",
      example: "doc_NB1RnyuzZkN6HAJ4xVWOO",
    }),
    document_name: z
      .string()
      .nullable()
      .openapi({ description: "The stored document's name (`inkit_storage` only, else null).", example: "Hi.pdf" }),
  })
  .openapi("RunDestination", { description: "Where an Inkit run delivered its document." });

const InkitTemplateSchema = z
  .object({
    id: z.string().openapi({ description: "Inkit template id.", example: "tmpl_1oR7iN7IBiEkOP39aHWfPm" }),
    version: z.number().int().nullable().openapi({ description: "Template version used.", example: 2 }),
  })
  .openapi("InkitTemplate", { description: "The Inkit template a run rendered." });

export const NormalizedInkitRunSchema = z
  .object({
    id: z.string().openapi({
      description: "The run's id at its provider: Inkit's invocation id.",
      example: "rend_2DhtpDQ5ErIaNJQRtCpKfN",
    }),
    provider: z.literal("inkit").openapi({ description: "The upstream that ran it.", example: "inkit" }),
    status: z.enum(RUN_STATUSES).openapi({
      example: "completed",
      description: `Normalized status, from Inkit's \`status\`:\n\n${statusTableMarkdown({ Inkit: inkitRunStatusTable })}`,
    }),
    provider_status: z.string().openapi({ description: "Inkit's `status` text, verbatim.", example: "Completed" }),
    name: z
      .string()
      .nullable()
      .openapi({ description: "Inkit's execution name, if one was given.", example: "November statements" }),
    created_at: timestamp("When the workflow was invoked.", "2023-11-07T02:31:22.232287Z"),
    completed_at: timestamp("Always null: Inkit does not report when a run completed.", null).nullable(),
    workflow: z.union([WorkflowRefSchema, z.null()]).openapi({
      description:
        "The Inkit flow invoked, or null for a run without a flow (a direct template render). Inkit flows are not versioned.",
      example: { id: "flow_1HsyLDikoFkeLg0ZkgIq57", name: "Hi", version: null },
    }),
    batch_id: z.string().nullable().openapi({
      description: "The workflow batch the run belongs to (Inkit `flows_batch_id`).",
      example: "fb_5s6Sy8bUjdRscqwSJ2hmCc",
    }),
    description: z
      .string()
      .nullable()
      .openapi({ description: "The workflow's description.", example: "Monthly statement for each customer" }),
    destination_status: z
      .string()
      .nullable()
      .openapi({ description: "Inkit's overall destination status text, verbatim.", example: "Completed" }),
    destinations: z.array(RunDestinationSchema).openapi({ description: "The run's destinations, sorted by `type`." }),
    merge_parameters: z.record(z.string(), z.unknown()).openapi({
      description: "The key-value pairs the workflow was invoked with, verbatim.",
      example: { lname: "Mayer", name: "Andrew" },
    }),
    template: z.union([InkitTemplateSchema, z.null()]).openapi({
      description: "The template rendered (`template_id`, `template_version`), or null when Inkit reports none.",
      example: { id: "tmpl_1oR7iN7IBiEkOP39aHWfPm", version: 2 },
    }),
    workflow_created_at: timestamp(
      "When the Inkit flow was created (`flow_created_at`).",
      "2023-10-25T16:13:39.170009Z",
    ).nullable(),
  })
  .openapi("InkitRun", { description: "An Inkit workflow run (an item of `GET /v1/invoke`)." });

export const NormalizedEightByEightRunSchema = z
  .object({
    id: z.string().openapi({
      description: "The run's id at its provider: 8x8's `workflowId`.",
      example: "60dbe307fe55d99fc083db61",
    }),
    provider: z.literal("8x8").openapi({ description: "The upstream that ran it.", example: "8x8" }),
    status: z.enum(RUN_STATUSES).openapi({
      example: "completed",
      description: `Normalized status, from 8x8's \`status\`:\n\n${statusTableMarkdown({ "8x8": eightByEightStatusTable })}`,
    }),
    provider_status: z.string().openapi({ description: "8x8's `status` text, verbatim.", example: "Complete" }),
    name: z.string().nullable().openapi({ description: "Always null: 8x8 instances have no name.", example: null }),
    created_at: timestamp("When the instance started (8x8 `startedAt`).", "2021-06-30T03:20:39.490000Z"),
    completed_at: timestamp(
      "When the instance completed (8x8 `completedAt`), null until then.",
      "2021-06-30T03:21:25.830000Z",
    ).nullable(),
    workflow: WorkflowRefSchema, // no `.openapi()` override here, see RunStatusSchema
    batch_id: z.string().nullable().openapi({ description: "Always null: 8x8 has no batches.", example: null }),
    account_id: z.string().openapi({
      description: "The 8x8 account the definition belongs to (`data.accountId`).",
      example: "test_account_id",
    }),
    sub_account_id: z.string().nullable().openapi({
      description: "The subaccount the trigger was raised under (`data.subAccountId`), when 8x8 reports one.",
      example: "test_subaccount_id",
    }),
    triggered_at: timestamp(
      "When the trigger that started the instance was raised (`data.triggeredAt`).",
      "2021-06-30T03:20:39.385747Z",
    ).nullable(),
    definition_id: z.string().openapi({
      description: "The 8x8 workflow definition id (same as `workflow.id`).",
      example: "5870442f-3ddd-4657-b74c-6e17308f5230",
    }),
    context: z.record(z.string(), z.unknown()).openapi({
      description: "The instance's workflow context: 8x8's `data` object, verbatim (timestamps not normalized).",
      example: {
        payload: {
          umid: "9e09ac86-bd74-5465-851d-1eb5a5fdbb9a",
          user: { channelUserId: "test_user_id", name: "test_user_name" },
          content: { text: "Hello, world!" },
        },
        accountId: "test_account_id",
        subAccountId: "test_subaccount_id",
        triggeredAt: "2021-06-30T03:20:39.3857479Z",
      },
    }),
  })
  .openapi("EightByEightRun", { description: "An 8x8 workflow instance." });

export const RunSchema = z
  .discriminatedUnion("provider", [NormalizedInkitRunSchema, NormalizedEightByEightRunSchema])
  .openapi("Run", { description: "A workflow run from either upstream, discriminated by `provider`." });

export type Run = z.infer<typeof RunSchema>;
export type InkitRunNormalized = z.infer<typeof NormalizedInkitRunSchema>;
export type EightByEightRunNormalized = z.infer<typeof NormalizedEightByEightRunSchema>;
export type RunDestination = z.infer<typeof RunDestinationSchema>;
