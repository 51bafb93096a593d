import assert from "node:assert/strict";
import { k8sAllows, parseK8sCapability, requestAttributes } from "./_k8s_capability.ts";

for (
  const [method, path, expected] of [
    ["GET", "/api/v1/nodes", { verb: "list", apiGroup: "", resource: "nodes" }],
    ["GET", "/api/v1/nodes/n1", { verb: "get", apiGroup: "", resource: "nodes", name: "n1" }],
    ["GET", "/api/v1/pods?watch=true", { verb: "watch", apiGroup: "", resource: "pods" }],
    ["GET", "/api/v1/namespaces/a/pods", {
      verb: "list",
      apiGroup: "",
      resource: "pods",
      namespace: "a",
    }],
    ["GET", "/api/v1/namespaces/a/pods/p/log", {
      verb: "get",
      apiGroup: "",
      resource: "pods/log",
      namespace: "a",
      name: "p",
    }],
    ["PATCH", "/apis/apps/v1/namespaces/a/deployments/d", {
      verb: "patch",
      apiGroup: "apps",
      resource: "deployments",
      namespace: "a",
      name: "d",
    }],
    ["DELETE", "/apis/batch/v1/namespaces/a/jobs", {
      verb: "deletecollection",
      apiGroup: "batch",
      resource: "jobs",
      namespace: "a",
    }],
    ["POST", "/api/v1/namespaces", { verb: "create", apiGroup: "", resource: "namespaces" }],
    ["GET", "/api/v1/namespaces/a", {
      verb: "get",
      apiGroup: "",
      resource: "namespaces",
      name: "a",
    }],
  ] as const
) {
  Deno.test(`requestAttributes() maps ${method} ${path} like the API server`, () => {
    const attrs = requestAttributes(method, path);
    assert.deepEqual(
      Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined)),
      expected,
    );
  });
}

Deno.test("requestAttributes() rejects a path that is not a resource path", () => {
  assert.throws(() => requestAttributes("GET", "/healthz"), /is not a resource path/);
});

Deno.test("parseK8sCapability() defaults apiGroups and scope, and rejects unknown keys and verbs", () => {
  assert.equal(parseK8sCapability(undefined), undefined);
  assert.equal(parseK8sCapability(true), "any");
  assert.deepEqual(parseK8sCapability({ resources: "pods", verbs: ["list"] }), [
    { apiGroups: [""], resources: ["pods"], verbs: ["list"], scope: "cluster" },
  ]);
  assert.throws(
    () => parseK8sCapability([{ resources: ["pods"], verbs: ["list"], extra: 1 }]),
    /unknown key "extra"/,
  );
  assert.throws(
    () => parseK8sCapability([{ resources: ["pods"], verbs: ["read"] }]),
    /unknown verb "read"/,
  );
  assert.throws(
    () => parseK8sCapability([{ verbs: ["get"] }]),
    /"resources" must be a non-empty list/,
  );
});

for (
  const [label, method, path, allowed] of [
    ["listing nodes", "GET", "/api/v1/nodes", true],
    ["listing pods in its namespace", "GET", "/api/v1/namespaces/own/pods", true],
    ["listing pods elsewhere", "GET", "/api/v1/namespaces/other/pods", false],
    ["listing pods cluster-wide", "GET", "/api/v1/pods", false],
    ["deleting a node", "DELETE", "/api/v1/nodes/n1", false],
    ["reading the named configmap", "GET", "/api/v1/namespaces/x/configmaps/settings", true],
    ["reading another configmap", "GET", "/api/v1/namespaces/x/configmaps/other", false],
  ] as const
) {
  Deno.test(`k8sAllows() decides ${label}`, () => {
    const rules = parseK8sCapability([
      { resources: ["nodes"], verbs: ["get", "list"] },
      { resources: ["pods"], verbs: ["list"], scope: "namespace" },
      { resources: ["configmaps"], verbs: ["get"], resourceNames: ["settings"] },
    ]);
    assert.ok(rules !== undefined && rules !== "any");
    assert.equal(k8sAllows(rules, requestAttributes(method, path), "own"), allowed);
  });
}
