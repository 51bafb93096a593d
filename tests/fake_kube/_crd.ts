/**
 * CustomResourceDefinitions: a CRD stored in the fake (`apiextensions.k8s.io/v1`) makes the API
 * server serve its group, as kube-apiserver's apiextensions server does — discovery lists it,
 * its objects are stored like any other, and every write is validated against the version's
 * `openAPIV3Schema` (422 Invalid, with the API server's field paths) while unknown fields are
 * rejected under `fieldValidation=Strict` (400) or pruned otherwise. Without the CRD, its paths
 * are 404s. Not implemented: CEL rules (`x-kubernetes-validations`), defaulting, conversion,
 * deleting a CRD's objects with it.
 *
 * @module
 */

import { Ajv } from "ajv";
import type { FakeResource } from "./_resources.ts";
import { StatusError } from "./_status.ts";
import type { Obj } from "./_store.ts";

/** A JSON schema node of a CRD (structural schema). */
export interface CrdSchema {
  type?: string;
  properties?: Record<string, CrdSchema>;
  additionalProperties?: CrdSchema | boolean;
  items?: CrdSchema;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  [key: string]: unknown;
}

interface CrdVersion {
  name: string;
  served?: boolean;
  schema?: { openAPIV3Schema?: CrdSchema };
  subresources?: { status?: unknown };
}

/** The resources the stored CRDs define (served versions). */
export function customResources(crds: Obj[]): FakeResource[] {
  return crds.flatMap((crd) => {
    const spec = crd.spec as {
      group: string;
      scope: "Namespaced" | "Cluster";
      names: { kind: string; plural: string };
      versions: CrdVersion[];
    };
    return spec.versions.filter((v) => v.served !== false).map((v) => ({
      group: spec.group,
      version: v.name,
      kind: spec.names.kind,
      plural: spec.names.plural,
      namespaced: spec.scope === "Namespaced",
      status: v.subresources?.status !== undefined,
      nameRule: "subdomain" as const,
      schema: v.schema?.openAPIV3Schema ?? { type: "object" },
    }));
  });
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compiled = new WeakMap<CrdSchema, ReturnType<typeof ajv.compile>>();

/** The schema without the parts ajv must not see (metadata is the API server's own). */
function forAjv(schema: CrdSchema): CrdSchema {
  const { properties, ...rest } = schema;
  const { metadata: _metadata, ...others } = properties ?? {};
  return { ...rest, properties: others };
}

/**
 * Validates an object against its CRD's schema, as the API server does on every write.
 *
 * @throws {StatusError} 422 Invalid naming each violation.
 */
export function validateCustomObject(res: FakeResource, object: Obj): void {
  const schema = res.schema as CrdSchema;
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(forAjv(schema));
    compiled.set(schema, validate);
  }
  const { status: _status, ...rest } = object;
  if (validate(res.status ? rest : object)) return;
  const causes = (validate.errors ?? []).map((e) => ({
    field: e.instancePath.replace(/^\//, "").replace(/\/(\d+)(?=\/|$)/g, "[$1]").replaceAll(
      "/",
      ".",
    ) || "<root>",
    message: `Invalid value: ${e.message ?? "does not match the schema"}`,
  }));
  throw new StatusError(
    422,
    "Invalid",
    `${res.kind}.${res.group} "${object.metadata?.name}" is invalid: ${
      causes.map((c) => `${c.field}: ${c.message}`).join(", ")
    }`,
    { name: object.metadata?.name, group: res.group, kind: res.kind, causes },
  );
}

/**
 * The fields of a custom object its CRD's schema does not declare (`.spec.foo`); with `prune`
 * they are removed from `object` (the API server's structural pruning, without strict field
 * validation).
 */
export function unknownCustomFields(res: FakeResource, object: Obj, prune: boolean): string[] {
  const unknown: string[] = [];
  // metadata is the API server's ObjectMeta, not the CRD's to describe.
  const schema = res.schema as CrdSchema;
  const top: CrdSchema = {
    ...schema,
    properties: {
      ...schema.properties,
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    },
  };
  walk(object, top, "", unknown, prune);
  return unknown;
}

function walk(
  value: unknown,
  schema: CrdSchema | undefined,
  path: string,
  out: string[],
  prune: boolean,
): void {
  if (!schema || value === null || typeof value !== "object") return;
  if (schema["x-kubernetes-preserve-unknown-fields"]) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, schema.items, `${path}[${i}]`, out, prune));
    return;
  }
  const map = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(map)) {
    const sub = schema.properties?.[k] ??
      (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
    if (sub === undefined && schema.additionalProperties !== true) {
      out.push(`${path}.${k}`);
      if (prune) delete map[k];
    } else walk(v, sub, `${path}.${k}`, out, prune);
  }
}
