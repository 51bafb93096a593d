/**
 * `undeploy <name>`: deletes everything `deploy` created for a workflow, found by its labels
 * (code ConfigMaps of every version, cron Jobs and cluster-scoped RBAC included), and checks
 * that nothing labelled as the workflow's is left. Shared Secrets named by
 * `deployment.secrets` and the namespace are not the workflow's and stay.
 *
 * @module
 */

import { deleteObjects, listOwnedObjects, objectKey } from "./_owned_objects.ts";
import type { KubeClient } from "./kube_client.ts";

/** What was removed. */
export interface UndeployResult {
  context: string;
  namespace: string;
  name: string;
  deleted: string[];
}

/**
 * Removes a deployed workflow.
 *
 * @throws {Error} "Cannot undeploy …" when nothing of it exists, or when objects remain.
 * @example
 * ```ts
 * const { deleted } = await undeployWorkflow(client, "hello", "default");
 * ```
 */
export async function undeployWorkflow(
  client: KubeClient,
  name: string,
  namespace: string,
): Promise<UndeployResult> {
  const objects = await listOwnedObjects(client, name, namespace);
  if (objects.length === 0) {
    throw new Error(
      `Cannot undeploy "${name}": nothing of it is deployed in namespace "${namespace}" (context "${client.context}")`,
    );
  }
  // Stop new work first: the Deployment and the CronJobs, then everything they use.
  const order = ["Deployment", "CronJob", "Job"];
  const rank = (kind: string) => (order.indexOf(kind) + order.length + 1) % (order.length + 1);
  objects.sort((a, b) => rank(a.kind) - rank(b.kind));
  const deleted = await deleteObjects(client, objects);
  const left = await listOwnedObjects(client, name, namespace);
  if (left.length > 0) {
    throw new Error(
      `Cannot undeploy "${name}": ${
        left.map(objectKey).join(", ")
      } still exist; run undeploy again`,
    );
  }
  return {
    context: client.context,
    namespace,
    name,
    deleted: deleted.map((o) => `${o.kind}/${o.metadata.name}`),
  };
}
