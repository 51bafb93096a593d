import assert from "node:assert/strict";
import { loadWorkflow } from "../engine/mod.ts";
import { createHandler } from "./create_handler.ts";
import { FakeRunApi } from "./testdata/fake_run_api.ts";

const workflow = await loadWorkflow(new URL("../examples/hello-world", import.meta.url).pathname);

Deno.test("/ready fails while draining (the pod leaves the Service), /live keeps answering 200", async () => {
  let draining = false;
  const handler = createHandler(new FakeRunApi(workflow), {
    auth: { token: "t0ken-for-probes-0123456789" },
    draining: () => draining,
  });
  const get = async (path: string) => {
    const response = await handler(new Request(`http://engine${path}`));
    return { status: response.status, body: await response.json() };
  };
  // No token needed: the kubelet sends none.
  assert.deepEqual(await get("/ready"), {
    status: 200,
    body: { status: "ok", version: workflow.version, codeHash: workflow.codeHash },
  });
  assert.equal((await get("/live")).status, 200);
  draining = true;
  const ready = await get("/ready");
  assert.deepEqual([ready.status, ready.body.status], [503, "draining"]);
  const live = await get("/live");
  assert.deepEqual([live.status, live.body.status], [200, "draining"]);
  assert.equal((await get("/health")).status, 503, "/health keeps its documented draining 503");
});
