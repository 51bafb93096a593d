/**
 * Strict field validation (`fieldValidation=Strict`): every field of an object must exist in
 * the official Kubernetes OpenAPI schema. The schema comes from the models generated from it
 * in `@kubernetes/client-node` (each model lists its attributes and their types).
 *
 * @module
 */

import * as k8s from "@kubernetes/client-node";

interface Attribute {
  baseName: string;
  type: string;
}
type Model = { getAttributeTypeMap(): Attribute[] };

const models = k8s as unknown as Record<string, Model | undefined>;

/** The client-node model name of a kind: `apps/v1` `Deployment` → `V1Deployment`. */
function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split("/").pop() ?? apiVersion;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/**
 * Paths of every field not in the schema (`.spec.template.spec.containers[0].imagePolicy`).
 *
 * @throws {TypeError} when the kind has no schema.
 */
export function unknownFields(object: Record<string, unknown>): string[] {
  const name = modelName(String(object.apiVersion), String(object.kind));
  if (!models[name]?.getAttributeTypeMap) {
    throw new TypeError(`Cannot validate ${object.apiVersion} ${object.kind}: no schema "${name}"`);
  }
  const out: string[] = [];
  walk(object, name, "", out);
  return out;
}

function walk(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, array[1]!, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === "object") {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        walk(v, map[1]!, `${path}[${k}]`, out);
      }
    }
    return;
  }
  const model = models[type];
  if (!model?.getAttributeTypeMap || typeof value !== "object" || Array.isArray(value)) return;
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const t = attributes.get(k);
    if (t === undefined) out.push(`${path}.${k}`);
    else walk(v, t, `${path}.${k}`, out);
  }
}
