import { Hono } from "hono";
import type { AppEnv } from "../../http/app-env";

// Swagger UI from our own static assets (see scripts/docs-assets.mjs): the reference works offline.
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tributary API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

// Kept out of the page so the Content-Security-Policy can forbid inline scripts.
const init = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui", deepLinking: true });`;

/** The interactive API reference at /docs. Not part of the OpenAPI document itself. */
export const docsRouter = new Hono<AppEnv>()
  .get("/docs", (c) => c.html(page))
  .get("/docs/init.js", (c) => c.body(init, 200, { "Content-Type": "text/javascript; charset=utf-8" }))
  .get("/docs/:asset{swagger-ui(-bundle\\.js|\\.css)}", async (c) => {
    // Copy the response: asset responses have immutable headers, and our middleware adds some.
    const asset = await c.env.ASSETS.fetch(c.req.raw);
    return new Response(asset.body, asset);
  });
