import { z } from "@hono/zod-openapi";
import { timestamp } from "./run";
import { ACCOUNT_ID_PATTERN } from "./sources";

export const CONNECTION_STATUSES = ["active", "invalid", "deleted"] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

const STATUS_DOC = `\`active\`: its credential was accepted when it was saved and has not been rejected since. \
\`invalid\`: the upstream rejected its credential (HTTP 401 or 403) on some use; listings through it answer 409 \
\`connection-invalid\`, and change detection makes no upstream call for it until a working credential is patched in \
(it then resumes where it stopped). \`deleted\`: its credential was erased; sources that name it end.`;

const name = z.string().min(1).max(200);

export const ConnectionSchema = z
  .object({
    id: z.string().openapi({ example: "conn_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
    provider: z.enum(["inkit", "8x8"]).openapi({ example: "inkit" }),
    name: name.nullable().openapi({ description: "Your label for it.", example: "Acme's Inkit account" }),
    account_id: z.string().nullable().openapi({
      description: "8x8: the account the key belongs to (its sources are `8x8:{account_id}/…@{id}`); null for Inkit.",
      example: null,
    }),
    status: z.enum(CONNECTION_STATUSES).openapi({ description: STATUS_DOC, example: "active" }),
    status_changed_at: timestamp("When `status` last changed.", "2026-11-01T00:00:00.000000Z"),
    last_used_at: timestamp(
      "When a listing or a check last read through it (to the minute); null before the first use.",
      "2026-11-01T00:05:00.000000Z",
    ).nullable(),
    last_error: z.string().nullable().openapi({
      description: "Why it became `invalid` (the upstream's answer, never the credential); null while `active`.",
      example: null,
    }),
    created_at: timestamp("When it was saved.", "2026-11-01T00:00:00.000000Z"),
    updated_at: timestamp("When it last changed (a new credential, a new name, a new status).", null).openapi({
      example: "2026-11-01T00:00:00.000000Z",
    }),
  })
  .openapi("Connection", {
    description:
      "One of your own upstream accounts. Its credential is write-only: it is checked with the upstream when saved, kept sealed, and never shown again. Name a source through it as `inkit:runs@{id}`, `inkit@{id}` in the merged feed, or `8x8:{account_id}/{definition_id}@{id}`.",
  });

export type Connection = z.infer<typeof ConnectionSchema>;

/** A credential as a header carries it: visible ASCII, no spaces, no control characters. Never echoed back. */
const credential = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[\x21-\x7e]+$/, "Expected visible ASCII characters, without spaces or control characters.");

const InkitCredentialsSchema = z
  .strictObject({
    api_token: credential.openapi({ description: "The account's Inkit API token (sent as `X-Inkit-API-Token`)." }),
  })
  .openapi("InkitCredentials");

const EightByEightCredentialsSchema = z
  .strictObject({
    api_key: credential.openapi({ description: "The account's 8x8 API key (sent as `Authorization: Bearer`)." }),
  })
  .openapi("EightByEightCredentials");

export const CreateConnectionSchema = z
  .discriminatedUnion("provider", [
    z.strictObject({
      provider: z.literal("inkit"),
      name: name.optional(),
      credentials: InkitCredentialsSchema,
    }),
    z.strictObject({
      provider: z.literal("8x8"),
      name: name.optional(),
      account_id: z
        .string()
        .regex(new RegExp(`^${ACCOUNT_ID_PATTERN}$`), "Expected an 8x8 account id such as acme-ops.")
        .openapi({ description: "The 8x8 account the key belongs to.", example: "acme-ops" }),
      credentials: EightByEightCredentialsSchema,
    }),
  ])
  .openapi("CreateConnection", {
    description:
      "`provider` and its `credentials` (`api_token` for Inkit, `api_key` for 8x8, with the 8x8 `account_id`). The credential is checked with one upstream call before it is stored.",
  });

export const UpdateConnectionSchema = z
  .strictObject({
    name: name.nullable().optional(),
    credentials: z.union([InkitCredentialsSchema, EightByEightCredentialsSchema]).optional().openapi({
      description:
        "A new credential for the same account, in the connection's provider's form. It is checked with the upstream before it replaces the old one; the id, the cursors and change detection's position are kept. A working credential brings an `invalid` connection back to `active`.",
    }),
  })
  .openapi("UpdateConnection");

export const ConnectionTestSchema = z
  .object({
    id: z.string().openapi({ example: "conn_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
    ok: z.boolean().openapi({ description: "Whether the upstream accepted the stored credential.", example: true }),
    status: z.enum(CONNECTION_STATUSES).openapi({ description: "The connection's status after the test." }),
    checked_at: timestamp("When the test call was made.", "2026-11-01T00:00:00.000000Z"),
    detail: z
      .string()
      .nullable()
      .openapi({ description: "What the upstream answered when it refused.", example: null }),
  })
  .openapi("ConnectionTest");
