/**
 * One CronJob per cron trigger. Its Job runs the same image as `pipedreamer run <name> --url
 * http://<service>:<port>`, which starts a run on the workflow's Service with the API token from
 * the mounted `<name>-token` Secret and waits for it: a failed run fails the Job. The Job's name
 * is the run's idempotency key, so a retried Job pod attaches to the same run instead of
 * starting another. The engine itself does not fire cron triggers in the cluster
 * (`serve --cron external`), so replicas never double-fire.
 *
 * @module
 */

import type { CronTrigger } from "../engine/mod.ts";
import { Component } from "./_labels.ts";
import { type KubeObject, type ManifestContext, Paths } from "./_manifest_context.ts";
import { containerSecurityContext, hardenedPodSpec } from "./_pod_security.ts";
import { TOKEN_KEY } from "./_secrets.ts";

/** How long a cron Job waits for its run (the Job's deadline is a minute more). */
export const CRON_RUN_TIMEOUT_SECONDS = 3600;

/** The CronJobs of every cron trigger, in declaration order. */
export function cronJobs(ctx: ManifestContext): KubeObject[] {
  const triggers = ctx.workflow.triggers.filter((t): t is CronTrigger => t.type === "cron");
  return triggers.map((trigger, i) => cronJob(ctx, trigger, i, triggers.length));
}

function cronJob(
  ctx: ManifestContext,
  trigger: CronTrigger,
  index: number,
  count: number,
): KubeObject {
  const labels = ctx.labels(Component.Cron);
  const url = `http://${ctx.names.service}.${ctx.namespace}.svc:${ctx.config.port}`;
  const args = [
    "run",
    ctx.workflow.name,
    "--url",
    url,
    "--token-file",
    Paths.tokenFile,
    "--timeout",
    `${CRON_RUN_TIMEOUT_SECONDS}s`,
    // The kubelet expands $(JOB_NAME) from the container's env.
    "--idempotency-key",
    "$(JOB_NAME)",
    // Recorded as a cron run, and never sent to a canary: cron stays on the live version.
    "--trigger",
    "cron",
  ];
  if (trigger.input !== undefined) args.push("--input", JSON.stringify(trigger.input));
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: ctx.names.cronJob(index, count), namespace: ctx.namespace, labels },
    spec: {
      schedule: trigger.schedule,
      ...(trigger.timezone ? { timeZone: trigger.timezone } : {}),
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: CRON_RUN_TIMEOUT_SECONDS + 60,
          template: {
            metadata: { labels },
            spec: {
              ...hardenedPodSpec(ctx, {}),
              restartPolicy: "Never",
              containers: [{
                name: "trigger",
                image: ctx.image,
                imagePullPolicy: ctx.pullPolicy,
                args,
                env: [
                  { name: "HOME", value: Paths.tmp },
                  {
                    name: "JOB_NAME",
                    valueFrom: {
                      fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" },
                    },
                  },
                ],
                resources: {
                  requests: { cpu: "10m", memory: "32Mi" },
                  limits: { memory: "128Mi" },
                },
                securityContext: containerSecurityContext(),
                volumeMounts: [
                  { name: "token", mountPath: Paths.token, readOnly: true },
                  { name: "tmp", mountPath: Paths.tmp },
                ],
              }],
              volumes: [
                {
                  name: "token",
                  secret: {
                    secretName: ctx.names.token,
                    items: [{ key: TOKEN_KEY, path: TOKEN_KEY }],
                    defaultMode: 0o440,
                  },
                },
                { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
              ],
            },
          },
        },
      },
    },
  };
}
