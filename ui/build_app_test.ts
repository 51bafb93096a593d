import assert from "node:assert/strict";
import { APP_BUNDLE, buildApp } from "./build_app.ts";

Deno.test("`buildApp()` output matches the committed ui/dist/app.js (run `deno task ui:build`)", async () => {
  const fresh = await buildApp();
  const committed = await Deno.readTextFile(APP_BUNDLE);
  assert.ok(
    fresh === committed,
    "ui/dist/app.js is stale: run `deno task ui:build` and commit the result",
  );
});

Deno.test("`buildApp()` bundles the browser code without imports left to resolve", async () => {
  const js = await buildApp();
  assert.doesNotMatch(js, /^\s*import\s/m, "the bundle still imports modules");
  assert.doesNotMatch(js, /\bDeno\./, "server code leaked into the browser bundle");
  assert.match(js, /^\/\/ deno-lint-ignore-file$/m);
  assert.match(js, /pipedreamer\.token/);
});
