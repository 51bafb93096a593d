/**
 * The hardening every Pipedreamer pod gets: non-root fixed uid, read-only root filesystem, no
 * privilege escalation, no capabilities, the runtime's default seccomp profile, gVisor.
 *
 * @module
 */

import { type ManifestContext, RUN_AS } from "./_manifest_context.ts";

/** Pod-level securityContext. */
export function podSecurityContext(): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS,
    runAsGroup: RUN_AS,
    fsGroup: RUN_AS,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level securityContext. */
export function containerSecurityContext(): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS,
    runAsGroup: RUN_AS,
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Pod spec fields shared by the engine Deployment and the cron trigger Jobs. */
export function hardenedPodSpec(
  ctx: ManifestContext,
  options: { serviceAccount?: string },
): Record<string, unknown> {
  return {
    ...(ctx.runtimeClass ? { runtimeClassName: ctx.runtimeClass } : {}),
    ...(options.serviceAccount ? { serviceAccountName: options.serviceAccount } : {}),
    automountServiceAccountToken: options.serviceAccount !== undefined,
    ...(ctx.config.imagePullSecrets.length > 0
      ? { imagePullSecrets: ctx.config.imagePullSecrets.map((name) => ({ name })) }
      : {}),
    enableServiceLinks: false,
    securityContext: podSecurityContext(),
  };
}
