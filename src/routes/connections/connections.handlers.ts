import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createConnection, deleteConnection, testConnection, updateConnection } from "../../connections/lifecycle";
import { connectionTag, toConnection } from "../../connections/model";
import { type ConnectionRow, findConnection } from "../../connections/store";
import type { AppEnv } from "../../http/app-env";
import { tenantOf } from "../../http/auth";
import { answerInWrite } from "../../http/idempotency";
import { guardedWrite } from "../../http/preconditions";
import { ProblemError } from "../../shared/problem";
import { d1Page, guarded, guardedDelete } from "../resource.handlers";
import type * as R from "./connections.routes";

/** The caller's connections as the resource helpers find them: a deleted one is gone, and the 404 says when. */
const connections = {
  noun: "connection",
  tag: connectionTag,
  async find(db: D1Database, tenant: string, id: string) {
    const row = await findConnection(db, tenant, id);
    if (row?.status === "deleted")
      throw new ProblemError("not-found", { detail: `Connection ${id} was deleted at ${row.status_changed_at}.` });
    return row;
  },
};

const found = async (c: Context<AppEnv>, id: string): Promise<ConnectionRow> => guarded(c, connections, id).read();

/** The secret of a credentials object, in the form its provider takes (else a 400 naming the field). */
function secretOf(provider: ConnectionRow["provider"], credentials: { api_token?: string; api_key?: string }) {
  const [field, secret] =
    provider === "inkit" ? ["api_token", credentials.api_token] : ["api_key", credentials.api_key];
  if (secret !== undefined) return secret;
  const message = `A ${provider} connection's credentials are \`{"${field}": "…"}\`.`;
  throw new ProblemError("validation-error", {
    detail: message,
    errors: [{ in: "body", name: "credentials", message }],
  });
}

export const create: RouteHandler<R.CreateRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const reply = answerInWrite(c, (row: ConnectionRow) =>
    c.json(toConnection(row), 201, { Location: `/v1/connections/${row.id}` }),
  );
  const input = {
    tenant: tenantOf(c),
    provider: body.provider,
    accountId: body.provider === "8x8" ? body.account_id : null,
    name: body.name ?? null,
    secret: secretOf(body.provider, body.credentials),
  };
  await createConnection(c.env, input, reply.keep);
  return reply.answer();
};

export const list: RouteHandler<R.ListRoute, AppEnv> = (c) =>
  d1Page(c, { route: "connections", ...c.req.valid("query") }, "connections", () => ({
    db: c.env.DB,
    table: "connections",
    where: ["tenant = ?", "status != 'deleted'"],
    params: [tenantOf(c)],
    map: toConnection,
  }));

export const get: RouteHandler<R.GetRoute, AppEnv> = async (c) =>
  c.json(toConnection(await found(c, c.req.valid("param").id)), 200);

export const update: RouteHandler<R.UpdateRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const next = await guardedWrite(c, guarded(c, connections, c.req.valid("param").id), (row, isGuarded) =>
    updateConnection(
      c.env,
      row,
      {
        name: body.name,
        secret: body.credentials === undefined ? undefined : secretOf(row.provider, body.credentials),
      },
      isGuarded,
    ),
  );
  return c.json(toConnection(next), 200, { ETag: await connectionTag(next) });
};

export const remove: RouteHandler<R.RemoveRoute, AppEnv> = (c) =>
  guardedDelete(c, connections, c.req.valid("param").id, (row, isGuarded) => deleteConnection(c.env, row, isGuarded));

export const test: RouteHandler<R.TestRoute, AppEnv> = async (c) => {
  const outcome = await testConnection(c.env, await found(c, c.req.valid("param").id));
  const { row, ok, checkedAt, detail } = outcome;
  return c.json({ id: row.id, ok, status: row.status, checked_at: checkedAt, detail }, 200);
};
