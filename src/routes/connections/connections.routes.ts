import { createRoute } from "@hono/zod-openapi";
import {
  ConnectionSchema,
  ConnectionTestSchema,
  CreateConnectionSchema,
  UpdateConnectionSchema,
} from "../../schemas/connection";
import { problemResponseFor, storageErrorResponses } from "../../schemas/problem";
import { idempotencyErrorResponses, idempotencyKeyHeaders, ifMatchHeaders } from "../../schemas/writes";
import {
  createdResponse,
  deleteResponses,
  guardedWriteErrorResponses,
  idParams,
  jsonBody,
  notFoundResponse,
  ownedGetRoute,
  ownedListRoute,
  replayableResponse,
  storedErrorResponses,
  taggedResponse,
} from "../resource.routes";

const tags = ["Connections"];
const params = idParams("a connection", "conn_01JD5Q0Z8K3M4N5P6Q7R8S9T0V");
const notFound = notFoundResponse("connection");
const unsealable = storageErrorResponses(
  "Or `deployment-incomplete`: the deployment has no usable `CONNECTION_ENCRYPTION_KEYS`, so it cannot seal or open credentials (or no `API_KEYS`).",
);
const checked = {
  422: problemResponseFor(
    "The upstream rejected the credential when it was checked (`credential-rejected`): its answer is in `upstream`; nothing was stored.",
  ),
  502: problemResponseFor("The upstream could not be asked (`upstream-error`, naming it); nothing was stored."),
  504: problemResponseFor("The upstream did not answer in time (`upstream-timeout`); nothing was stored."),
};

export const create = createRoute({
  method: "post",
  path: "/connections",
  operationId: "createConnection",
  tags,
  summary: "Save one of your upstream accounts",
  description:
    "Saves an Inkit or 8x8 account of yours. The credential is checked with one upstream call first (Inkit: its first run, `GET /v1/invoke?page=1&page_size=1`; 8x8: the instances of a definition that does not exist in the account, which a working key answers with 404, code 1300) and stored only if the upstream accepts it. It is never shown again. Then name sources through it: `inkit:runs@{id}`, `inkit@{id}` in the merged feed, `8x8:{account_id}/{definition_id}@{id}`, or `?connection={id}` on the provider routes.",
  request: { body: jsonBody(CreateConnectionSchema), headers: idempotencyKeyHeaders },
  responses: {
    201: createdResponse("The connection (without its credential).", ConnectionSchema, "connection"),
    ...storedErrorResponses,
    400: problemResponseFor(
      "Invalid input (`validation-error`): every offending field is named in `errors` (an unknown provider, a missing or oversized field, a credential with spaces or control characters), and nothing is stored.",
    ),
    ...checked,
    ...idempotencyErrorResponses,
    ...unsealable,
  },
});

export const list = ownedListRoute({
  path: "/connections",
  operationId: "listConnections",
  tags,
  summary: "List your connections",
  plural: "connections (deleted ones are left out)",
  item: ConnectionSchema,
  name: "ConnectionList",
  page: "A page of connections.",
});

export const get = ownedGetRoute({
  path: "/connections/{id}",
  operationId: "getConnection",
  tags,
  summary: "Get a connection",
  params,
  ok: taggedResponse("The connection, with its health.", ConnectionSchema),
  notFound,
});

export const update = createRoute({
  method: "patch",
  path: "/connections/{id}",
  operationId: "updateConnection",
  tags,
  summary: "Rename a connection or give it a new credential",
  description:
    "Changes the given fields only. A new credential is checked with the upstream before it replaces the old one; the id, live cursors and change detection's position are kept, and an `invalid` connection becomes `active` again (`connection.recovered`). With `If-Match` (the `ETag` of a `GET` or of the last `PATCH` answer), the change applies only to that state.",
  request: { params, body: jsonBody(UpdateConnectionSchema), headers: ifMatchHeaders },
  responses: {
    200: taggedResponse("The updated connection.", ConnectionSchema),
    ...guardedWriteErrorResponses(notFound),
    400: problemResponseFor(
      "Invalid input (`validation-error`): every offending field is named in `errors`, including credentials in another provider's form.",
    ),
    ...checked,
    ...unsealable,
  },
});

export const remove = createRoute({
  method: "delete",
  path: "/connections/{id}",
  operationId: "deleteConnection",
  tags,
  summary: "Delete a connection",
  description:
    "Erases the credential and ends the sources read through it: change detection stops, and cursors and feeds that name it answer 404 saying why. Records `connection.deleted`. With `If-Match`, only if the connection is still in that state.",
  request: { params, headers: ifMatchHeaders },
  responses: deleteResponses(notFound),
});

export const test = createRoute({
  method: "post",
  path: "/connections/{id}/test",
  operationId: "testConnection",
  tags,
  summary: "Test a connection's stored credential",
  description:
    "Makes the same upstream call that checked the credential when it was saved. A rejection marks the connection `invalid` (`connection.invalid`); an acceptance brings an `invalid` one back (`connection.recovered`).",
  request: { params, headers: idempotencyKeyHeaders },
  responses: {
    200: replayableResponse("What the upstream answered.", ConnectionTestSchema),
    ...storedErrorResponses,
    ...notFound,
    502: checked[502],
    504: checked[504],
    ...idempotencyErrorResponses,
    ...unsealable,
  },
});

export type CreateRoute = typeof create;
export type ListRoute = typeof list;
export type GetRoute = typeof get;
export type UpdateRoute = typeof update;
export type RemoveRoute = typeof remove;
export type TestRoute = typeof test;
