import { createRoute, z } from "@hono/zod-openapi";
import { problemResponseFor } from "../../schemas/problem";
import { problemTypes } from "../../shared/problem";

const HealthSchema = z
  .object({ status: z.literal("ok"), version: z.string().openapi({ example: "0.1.0" }) })
  .openapi("Health");

export const health = createRoute({
  method: "get",
  path: "/healthz",
  operationId: "getHealth",
  tags: ["Meta"],
  security: [],
  summary: "Liveness check",
  description: "Public. Answers without touching any upstream or storage.",
  responses: {
    200: { description: "The worker is up.", content: { "application/json": { schema: HealthSchema } } },
  },
});

const ProblemTypeSchema = z
  .object({
    type: z.string().openapi({ example: "/problems/invalid-cursor" }),
    title: z.string().openapi({ example: "Invalid cursor" }),
    status: z.number().int().openapi({ example: 400 }),
  })
  .openapi("ProblemType");

export const getProblemType = createRoute({
  method: "get",
  path: "/problems/{slug}",
  operationId: "getProblemType",
  tags: ["Meta"],
  security: [],
  summary: "Describe a problem type",
  description: "Public. The `type` of every problem document resolves here.",
  request: {
    params: z.object({
      slug: z
        .enum(Object.keys(problemTypes) as [keyof typeof problemTypes, ...(keyof typeof problemTypes)[]])
        .openapi({ param: { name: "slug", in: "path" }, example: "invalid-cursor" }),
    }),
  },
  responses: {
    200: { description: "The problem type.", content: { "application/json": { schema: ProblemTypeSchema } } },
    400: problemResponseFor("Unknown problem type."),
  },
});

export type HealthRoute = typeof health;
export type GetProblemTypeRoute = typeof getProblemType;
