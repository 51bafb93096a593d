/**
 * The validation the API server applies to the objects Pipedreamer writes: names, label
 * values, required fields, immutable fields, and strict field validation.
 *
 * @module
 */

import type { FakeResource } from "./_resources.ts";
import type { Obj } from "./_store.ts";
import { badRequest, invalid } from "./_status.ts";
import { unknownFields } from "./_strict_fields.ts";
import { validateCustomObject } from "./_crd.ts";

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Strict field validation of what a client sent: 400 naming every unknown field (`unknown`: a custom resource's, from its CRD). */
export function validateFields(object: Obj, unknown = unknownFields(object)): void {
  if (unknown.length > 0) {
    throw badRequest(
      `failed to create typed patch object (${
        object.metadata?.namespace ?? ""
      }/${object.metadata?.name}; ` +
        `${object.apiVersion}, Kind=${object.kind}): ${
          unknown.map((p) => `${p}: field not declared in schema`).join(", ")
        }`,
    );
  }
}

/** Throws the API server's 422 when `object` (the result of a write) may not replace `live`. */
export function validateObject(res: FakeResource, object: Obj, live: Obj | undefined): void {
  const causes: { field: string; message: string }[] = [];
  const name = object.metadata?.name;
  if (typeof name !== "string" || name === "") {
    causes.push({
      field: "metadata.name",
      message: "Required value: name or generateName is required",
    });
  } else if (!validName(res, name)) {
    causes.push({
      field: "metadata.name",
      message: `Invalid value: "${name}": ${nameRuleText(res)}`,
    });
  }
  for (const [k, v] of Object.entries(object.metadata?.labels ?? {})) {
    if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v)) {
      causes.push({
        field: `metadata.labels`,
        message: `Invalid value: "${v}" for "${k}": a valid label must be 63 characters or less`,
      });
    }
  }
  if ((res.kind === "ConfigMap" || res.kind === "Secret") && live?.immutable === true) {
    for (const field of ["data", "binaryData", "stringData"]) {
      if (JSON.stringify(live[field] ?? null) !== JSON.stringify(object[field] ?? null)) {
        causes.push({ field, message: "Forbidden: field is immutable when `immutable` is set" });
      }
    }
    if (object.immutable !== true) {
      causes.push({
        field: "immutable",
        message: "Forbidden: field is immutable when `immutable` is set",
      });
    }
  }
  if (res.kind === "Deployment") causes.push(...deploymentCauses(object, live));
  if (causes.length === 0 && res.schema !== undefined) validateCustomObject(res, object);
  if (causes.length > 0) throw invalid(res.kind, String(name), causes);
}

interface DeploymentSpec {
  selector?: { matchLabels?: Record<string, string> };
  template?: {
    metadata?: { labels?: Record<string, string> };
    spec?: { containers?: { image?: string }[] };
  };
}

function deploymentCauses(
  object: Obj,
  live: Obj | undefined,
): { field: string; message: string }[] {
  const causes: { field: string; message: string }[] = [];
  const spec = object.spec as DeploymentSpec | undefined;
  const selector = spec?.selector?.matchLabels;
  const labels = spec?.template?.metadata?.labels;
  if (!selector) causes.push({ field: "spec.selector", message: "Required value" });
  else if (!Object.entries(selector).every(([k, v]) => labels?.[k] === v)) {
    causes.push({
      field: "spec.template.metadata.labels",
      message: "Invalid value: `selector` does not match template `labels`",
    });
  }
  const liveSelector = (live?.spec as DeploymentSpec | undefined)?.selector;
  if (live && JSON.stringify(liveSelector) !== JSON.stringify(spec?.selector)) {
    causes.push({ field: "spec.selector", message: "Invalid value: field is immutable" });
  }
  const containers = spec?.template?.spec?.containers;
  if (!containers || containers.length === 0) {
    causes.push({ field: "spec.template.spec.containers", message: "Required value" });
  }
  containers?.forEach((c, i) => {
    if (!c.image) {
      causes.push({
        field: `spec.template.spec.containers[${i}].image`,
        message: "Required value",
      });
    }
  });
  return causes;
}

function validName(res: FakeResource, name: string): boolean {
  switch (res.nameRule) {
    case "label":
      return name.length <= 63 && LABEL.test(name);
    case "cronjob":
      return name.length <= 52 && SUBDOMAIN.test(name);
    case "path":
      return name.length <= 253 && !/[/%]/.test(name) && name !== "." && name !== "..";
    default:
      return name.length <= 253 && SUBDOMAIN.test(name);
  }
}

function nameRuleText(res: FakeResource): string {
  switch (res.nameRule) {
    case "label":
      return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-' (at most 63)";
    case "cronjob":
      return "must be no more than 52 characters and a lowercase RFC 1123 subdomain";
    case "path":
      return "may not contain '/' or '%'";
    default:
      return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'";
  }
}
