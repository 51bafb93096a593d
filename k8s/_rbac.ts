/**
 * ServiceAccount, Role/ClusterRole and their bindings, from `deployment.serviceAccount`,
 * `deployment.rbac` and the nodes' `capabilities.k8s` rules (so the cluster enforces what the
 * nodes declare). A workflow that declares none of them gets no service account and no token.
 *
 * @module
 */

import type { CompiledWorkflow } from "../engine/mod.ts";
import type { DeploymentConfig, PolicyRule } from "./_deployment_config.ts";
import { type K8sRule, K8sScope, parseK8sCapability } from "./_k8s_capability.ts";
import { Component } from "./_labels.ts";
import type { KubeObject, ManifestContext } from "./_manifest_context.ts";

/** RBAC rules of every node's `capabilities.k8s`, split by scope. */
export function capabilityRules(workflow: CompiledWorkflow): {
  role: PolicyRule[];
  clusterRole: PolicyRule[];
  declared: boolean;
} {
  const out = { role: [] as PolicyRule[], clusterRole: [] as PolicyRule[], declared: false };
  const nodes = [...Object.values(workflow.nodes), ...(workflow.onError ? [workflow.onError] : [])];
  for (const node of nodes) {
    const cap = parseK8sCapability(node.capabilities.k8s, `nodes.${node.id}.capabilities.k8s`);
    if (cap === undefined) continue;
    out.declared = true;
    if (cap === "any") continue;
    for (const rule of cap) {
      (rule.scope === K8sScope.Namespace ? out.role : out.clusterRole).push(toPolicyRule(rule));
    }
  }
  return out;
}

function toPolicyRule(rule: K8sRule): PolicyRule {
  return {
    apiGroups: rule.apiGroups,
    resources: rule.resources,
    verbs: rule.verbs,
    ...(rule.resourceNames ? { resourceNames: rule.resourceNames } : {}),
  };
}

/** The service account the engine runs as, or undefined when the workflow needs none. */
export function serviceAccountFor(
  workflow: CompiledWorkflow,
  config: DeploymentConfig,
): string | undefined {
  if (config.serviceAccount) return config.serviceAccount;
  const caps = capabilityRules(workflow);
  const needed = caps.declared || config.rbac.role.length > 0 || config.rbac.clusterRole.length > 0;
  return needed ? workflow.name : undefined;
}

/** ServiceAccount, Role + RoleBinding, ClusterRole + ClusterRoleBinding (each only when needed). */
export function rbacObjects(ctx: ManifestContext): KubeObject[] {
  const sa = ctx.serviceAccount;
  if (!sa) return [];
  const caps = capabilityRules(ctx.workflow);
  const roleRules = [...ctx.config.rbac.role, ...caps.role];
  const clusterRules = [...ctx.config.rbac.clusterRole, ...caps.clusterRole];
  const labels = ctx.labels(Component.Rbac);
  const subject = { kind: "ServiceAccount", name: sa, namespace: ctx.namespace };
  const out: KubeObject[] = [{
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: sa, namespace: ctx.namespace, labels },
    automountServiceAccountToken: false,
  }];
  if (roleRules.length > 0) {
    out.push(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: ctx.names.role, namespace: ctx.namespace, labels },
        rules: roleRules,
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: ctx.names.role, namespace: ctx.namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: ctx.names.role },
        subjects: [subject],
      },
    );
  }
  if (clusterRules.length > 0) {
    const clusterLabels = ctx.labels(Component.Rbac, true);
    out.push(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: ctx.names.clusterRole, labels: clusterLabels },
        rules: clusterRules,
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: ctx.names.clusterRole, labels: clusterLabels },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: ctx.names.clusterRole,
        },
        subjects: [subject],
      },
    );
  }
  return out;
}
