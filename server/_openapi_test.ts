import assert from "node:assert/strict";
import { loadWorkflow } from "../engine/mod.ts";
import { buildOpenApi } from "./_openapi.ts";
import { ROUTES } from "./create_handler.ts";

const workflow = await loadWorkflow(new URL("../examples/hello-world", import.meta.url).pathname);

/** Every `$ref` in `value`. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) { for (const item of value) refs(item, out); }
  else if (typeof value === "object" && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "$ref" && typeof inner === "string") out.push(inner);
      else refs(inner, out);
    }
  }
  return out;
}

function resolvePointer(document: unknown, pointer: string): unknown {
  let node = document;
  for (const part of pointer.replace(/^#\//, "").split("/")) {
    node = (node as Record<string, unknown> | undefined)?.[part.replaceAll("~1", "/")];
  }
  return node;
}

Deno.test("`buildOpenApi()` describes every route of the handler", () => {
  const document = buildOpenApi(workflow, { auth: true });
  const paths = document.paths as Record<string, Record<string, { responses: object }>>;
  for (const route of ROUTES) {
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    const operation = paths[path]?.[route.method.toLowerCase()];
    assert.ok(operation, `${route.method} ${route.path} is documented`);
    assert.ok(Object.keys(operation.responses).length > 0);
  }
  const documented = Object.entries(paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)
  );
  // GET /canary is answered before the routes, by a live engine's canary forwarder.
  assert.ok(paths["/canary"]?.get, "GET /canary is documented");
  assert.equal(
    documented.length,
    ROUTES.length + 1,
    "no route is documented that does not exist",
  );
});

Deno.test("`buildOpenApi()` resolves every $ref and embeds the inputSchema", () => {
  const document = buildOpenApi(
    {
      ...workflow,
      inputSchema: {
        $defs: { name: { type: "string" } },
        properties: { name: { $ref: "#/$defs/name" } },
      },
    },
    { auth: true },
  );
  for (const ref of refs(document)) {
    assert.notEqual(resolvePointer(document, ref), undefined, `${ref} resolves`);
  }
  const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
  assert.deepEqual(
    (schemas.RunInput as { properties: unknown }).properties,
    { name: { $ref: "#/components/schemas/RunInput/$defs/name" } },
  );
  for (const name of ["RunRecord", "NodeRecord", "RunSummary", "Error", "LogLine", "Health"]) {
    assert.ok(schemas[name], name);
  }
});

Deno.test("`buildOpenApi()` declares token auth (bearer or X-Pipedreamer-Token) only when the server requires it", () => {
  const secured = buildOpenApi(workflow, { auth: true });
  assert.deepEqual(secured.security, [{ bearer: [] }, { tokenHeader: [] }]);
  const schemes = (secured.components as Record<string, Record<string, Record<string, unknown>>>)
    .securitySchemes!;
  assert.deepEqual([schemes.bearer?.type, schemes.bearer?.scheme], ["http", "bearer"]);
  assert.deepEqual(
    [schemes.tokenHeader?.type, schemes.tokenHeader?.in, schemes.tokenHeader?.name],
    ["apiKey", "header", "X-Pipedreamer-Token"],
  );
  const paths = secured.paths as Record<string, Record<string, Record<string, unknown>>>;
  assert.deepEqual(paths["/health"]!.get!.security, [], "/health needs no token");
  assert.ok(paths["/runs"]!.get!.responses && "401" in (paths["/runs"]!.get!.responses as object));
  const open = buildOpenApi(workflow, { auth: false });
  assert.equal(open.security, undefined);
  assert.equal((open.components as Record<string, unknown>).securitySchemes, undefined);
});

Deno.test("`buildOpenApi()` documents POST /hooks/{name} for the declared webhooks, outside the token", () => {
  const without = buildOpenApi(workflow, { auth: true });
  assert.equal((without.paths as Record<string, unknown>)["/hooks/{name}"], undefined);
  const document = buildOpenApi({
    ...workflow,
    webhooks: {
      github: { subject: "hooks.github", verify: "github", secret: "gh" },
      ci: { subject: "hooks.ci", verify: "bearer", secret: "ci" },
    },
  }, { auth: true });
  const hooks = (document.paths as Record<string, Record<string, Record<string, unknown>>>)[
    "/hooks/{name}"
  ]!;
  assert.deepEqual(Object.keys(hooks), ["post"]);
  assert.deepEqual(hooks.post!.security, []);
  const [parameter] = hooks.post!.parameters as { schema: { enum: string[] } }[];
  assert.deepEqual(parameter!.schema.enum, ["github", "ci"]);
  assert.deepEqual(Object.keys(hooks.post!.responses as object), [
    "202",
    "401",
    "404",
    "405",
    "413",
    "503",
  ]);
  for (const ref of refs(document)) {
    assert.notEqual(resolvePointer(document, ref), undefined, `${ref} resolves`);
  }
});
