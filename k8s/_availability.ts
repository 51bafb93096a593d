/**
 * The objects around the engine Deployment that keep runs and capacity safe: the SQLite
 * store's PersistentVolumeClaim (default store, one replica), a PodDisruptionBudget when more
 * than one replica may run, and the HorizontalPodAutoscaler of `deployment.autoscale`.
 *
 * @module
 */

import { Component, engineSelector } from "./_labels.ts";
import type { KubeObject, ManifestContext } from "./_manifest_context.ts";

/** `<name>-data`: the SQLite run store, or nothing when `deployment.store` is PostgreSQL. */
export function storeClaim(ctx: ManifestContext): KubeObject[] {
  if (ctx.config.store) return [];
  const { size, storageClass } = ctx.config.storage;
  return [{
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: ctx.names.data,
      namespace: ctx.namespace,
      labels: ctx.labels(Component.Data),
    },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
      ...(storageClass ? { storageClassName: storageClass } : {}),
    },
  }];
}

/** Voluntary disruptions (drains, upgrades) take one engine pod at a time. */
export function disruptionBudget(ctx: ManifestContext): KubeObject[] {
  const most = ctx.config.autoscale?.max ?? ctx.config.replicas;
  if (most <= 1) return [];
  return [{
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: {
      name: ctx.names.disruptionBudget,
      namespace: ctx.namespace,
      labels: ctx.labels(Component.Availability),
    },
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: engineSelector(ctx.workflow.name) },
    },
  }];
}

/** `deployment.autoscale`: CPU-based HorizontalPodAutoscaler (it then owns `replicas`). */
export function autoscaler(ctx: ManifestContext): KubeObject[] {
  const a = ctx.config.autoscale;
  if (!a) return [];
  return [{
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: {
      name: ctx.names.autoscaler,
      namespace: ctx.namespace,
      labels: ctx.labels(Component.Autoscale),
    },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: ctx.names.deployment },
      minReplicas: a.min,
      maxReplicas: a.max,
      metrics: [{
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: a.cpu } },
      }],
    },
  }];
}
