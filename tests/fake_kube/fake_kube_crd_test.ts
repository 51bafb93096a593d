import assert from "node:assert/strict";
import { kedaScaledObjectCrd, startFakeKube } from "./mod.ts";

const SO_PATH = "/apis/keda.sh/v1alpha1/namespaces/default/scaledobjects";
const SCALED_OBJECT = {
  apiVersion: "keda.sh/v1alpha1",
  kind: "ScaledObject",
  metadata: { name: "web", namespace: "default" },
  spec: {
    scaleTargetRef: { name: "web" },
    maxReplicaCount: 5,
    triggers: [{ type: "cpu", metricType: "Utilization", metadata: { value: "70" } }],
  },
};

Deno.test("the fake serves a CRD's group only once the CRD is installed: discovery, storage, schema, strict fields", async () => {
  await using kube = await startFakeKube();

  const call = (method: string, path: string, body?: unknown, contentType?: string) =>
    fetch(`${kube.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${kube.token}`,
        ...(contentType ? { "content-type": contentType } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const apply = (object: unknown) =>
    call(
      "PATCH",
      `${SO_PATH}/web?fieldManager=test&fieldValidation=Strict`,
      object,
      "application/apply-patch+yaml",
    );
  const groups = async () =>
    ((await (await call("GET", "/apis")).json()).groups as { name: string }[]).map((g) => g.name);

  // Not installed: an unknown group and kind are 404s, and discovery does not list them.
  assert.equal((await call("GET", "/apis/keda.sh/v1alpha1")).status, 404);
  const missing = await apply(SCALED_OBJECT);
  assert.equal(missing.status, 404, await missing.text());
  assert.ok(!(await groups()).includes("keda.sh"));

  kube.installCrd(await kedaScaledObjectCrd());
  assert.ok((await groups()).includes("keda.sh"));
  const discovery = await (await call("GET", "/apis/keda.sh/v1alpha1")).json();
  assert.deepEqual(
    discovery.resources.map((r: { name: string; kind: string; namespaced: boolean }) => [
      r.name,
      r.kind,
      r.namespaced,
    ]),
    [["scaledobjects", "ScaledObject", true]],
  );

  const created = await apply(SCALED_OBJECT);
  assert.equal(created.status, 201, await created.text());
  assert.equal(
    (kube.get("keda.sh/v1alpha1", "ScaledObject", "default", "web")!.spec as {
      maxReplicaCount: number;
    }).maxReplicaCount,
    5,
  );
  const listed = await (await call("GET", SO_PATH)).json();
  assert.equal(listed.kind, "ScaledObjectList");
  assert.deepEqual(listed.items.map((o: { metadata: { name: string } }) => o.metadata.name), [
    "web",
  ]);
  // Unknown fields: 400 under strict field validation.
  const unknown = await apply({ ...SCALED_OBJECT, spec: { ...SCALED_OBJECT.spec, replicas: 3 } });
  assert.equal(unknown.status, 400);
  assert.match((await unknown.json()).message, /\.spec\.replicas: field not declared in schema/);
  // The schema: 422 Invalid, naming the field.
  const invalid = await apply({
    ...SCALED_OBJECT,
    spec: { ...SCALED_OBJECT.spec, maxReplicaCount: "five" },
  });
  assert.equal(invalid.status, 422);
  assert.match(
    (await invalid.json()).message,
    /spec\.maxReplicaCount: Invalid value: must be integer/,
  );
  const noTriggers = await apply({ ...SCALED_OBJECT, spec: { scaleTargetRef: { name: "web" } } });
  assert.equal(noTriggers.status, 422);
  assert.match((await noTriggers.json()).message, /must have required property 'triggers'/);
  // Without strict validation, unknown fields are pruned (structural schema), not stored.
  const pruned = await call(
    "PATCH",
    `${SO_PATH}/web?fieldManager=test`,
    { ...SCALED_OBJECT, spec: { ...SCALED_OBJECT.spec, replicas: 3 } },
    "application/apply-patch+yaml",
  );
  assert.equal(pruned.status, 200, await pruned.text());
  assert.equal(
    (kube.get("keda.sh/v1alpha1", "ScaledObject", "default", "web")!.spec as Record<
      string,
      unknown
    >).replicas,
    undefined,
  );
  assert.equal((await call("DELETE", `${SO_PATH}/web`)).status, 200);
  assert.equal(kube.list("keda.sh/v1alpha1", "ScaledObject", "default").length, 0);
});
