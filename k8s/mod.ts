/**
 * Kubernetes: manifests for a workflow (one generator, so `deploy --dry-run` prints exactly
 * what `deploy` applies), a small client over `@kubernetes/client-node`, and the logic of the
 * cluster commands (deploy, status, run, logs, list, undeploy, versions, rollback,
 * cluster check). No kubectl is needed. Also the Kubernetes side of `ctx.k8s`.
 *
 * @example
 * ```ts
 * import { deployWorkflow, loadKubeClient, planDeploy } from "./k8s/mod.ts";
 * const client = loadKubeClient({ context: "kind-dev" });
 * const plan = await planDeploy("examples/hello-world", { namespace: "default", registry: "localhost:5000" });
 * await deployWorkflow(client, plan, { rollout: { onProgress: console.error } });
 * ```
 *
 * @module
 */

export {
  DEFAULT_RUNTIME_CLASS,
  generateManifests,
  type GenerateManifestsOptions,
  type KubeObject,
} from "./generate_manifests.ts";
export {
  bundledWorkflowFiles,
  BundleMode,
  type BundleSource,
  bundleSource,
  collectWorkflowFiles,
  type WorkflowFile,
} from "./workflow_files.ts";
export {
  apiError,
  FIELD_MANAGER,
  KubeApiError,
  KubeClient,
  type KubeClientOptions,
  kubeContexts,
  type KubeRequestOptions,
  type KubeResponse,
  loadKubeClient,
  resourcePath,
} from "./kube_client.ts";
export { applyManifests, type ApplyOptions, type RolloutOptions, waitForRollout } from "./apply.ts";
export { type AutoscalerChoice, kedaInstalled, needsKedaLookup } from "./_keda.ts";
export { checkDeploymentSection } from "./_validate_deployment.ts";
export {
  CONFIG_FIELD_MANAGER,
  defaultImage,
  type DeployOptions,
  type DeployPlan,
  type DeployResult,
  deployWorkflow,
  engineImage,
  existingToken,
  planDeploy,
  type PlanDeployOptions,
} from "./deploy.ts";
export {
  type EventSummary,
  listWorkflows,
  type PodSummary,
  type StatusOptions,
  type WorkflowStatus,
  workflowStatus,
  type WorkflowSummary,
} from "./status.ts";
export {
  runAtUrl,
  runDeployed,
  type RunDeployedOptions,
  type RunResult,
  TOKEN_HEADER,
} from "./run_deployed.ts";
export { type LogsOptions, streamLogs } from "./logs.ts";
export { type UndeployResult, undeployWorkflow } from "./undeploy.ts";
export { manifestFileName, writeManifestDir } from "./manifest_dir.ts";
export {
  type ApiServerEndpoint,
  parseApiServerEndpoint,
  readApiServerEndpoints,
} from "./api_server_endpoints.ts";
export { diffVersions, type FileDiff, listVersions, type VersionInfo } from "./versions.ts";
export { type RollbackOptions, type RollbackResult, rollbackWorkflow } from "./rollback.ts";
export { checkCluster, type CheckResult, type ClusterCheckOptions } from "./cluster_check.ts";
export {
  createK8sApi,
  createK8sMock,
  createK8sTransport,
  guardK8sTransport,
  type K8sApi,
  type K8sMockEntry,
  type K8sRequestInfo,
  type K8sResponseInfo,
  type K8sTransport,
} from "./node_k8s.ts";
export {
  type K8sCapability,
  type K8sRule,
  K8sScope,
  parseK8sCapability,
} from "./_k8s_capability.ts";
export { MANAGER } from "./_labels.ts";
