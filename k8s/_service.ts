/**
 * The workflow's Service: a ClusterIP in front of the engine pods, port named `http` so the
 * API server's service proxy (`services/<name>:http/proxy/…`) and the cron Jobs can reach it.
 *
 * @module
 */

import { engineSelector, HTTP_PORT_NAME } from "./_labels.ts";
import type { KubeObject, ManifestContext } from "./_manifest_context.ts";

/** The Service of the engine Deployment. */
export function engineService(ctx: ManifestContext): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: ctx.names.service,
      namespace: ctx.namespace,
      labels: ctx.labels("engine"),
    },
    spec: {
      type: "ClusterIP",
      selector: engineSelector(ctx.workflow.name),
      ports: [{
        name: HTTP_PORT_NAME,
        port: ctx.config.port,
        targetPort: HTTP_PORT_NAME,
        protocol: "TCP",
      }],
    },
  };
}
