/**
 * The merge semantics of the API server for the fields Pipedreamer uses: JSON merge patch
 * (RFC 7386), strategic merge patch (lists merged by their patch merge key), and server-side
 * apply field ownership (managedFields, removal of fields a manager stopped applying,
 * conflicts with other managers).
 *
 * @module
 */

type Json = unknown;
type Obj = Record<string, Json>;

/** Patch merge keys of the keyed lists in the objects Pipedreamer writes. */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  env: "name",
  imagePullSecrets: "name",
  conditions: "type",
  ownerReferences: "uid",
};

function isObj(v: Json): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The merge key of a list field, or undefined for an atomic list. */
export function mergeKey(field: string, items: Json[]): string | undefined {
  if (field === "ports") {
    return items.every((i) => isObj(i) && "containerPort" in i) ? "containerPort" : "port";
  }
  return MERGE_KEYS[field];
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Strategic merge patch: maps merge, keyed lists merge by key, `$patch: delete` removes items. */
export function strategicMerge(target: Json, patch: Json, field = ""): Json {
  if (Array.isArray(patch)) {
    const key = mergeKey(field, patch);
    if (!key || !Array.isArray(target)) return structuredClone(patch);
    const out = target.map((i) => structuredClone(i));
    for (const item of patch) {
      if (!isObj(item)) continue;
      const i = out.findIndex((o) => isObj(o) && o[key] === item[key]);
      if (item.$patch === "delete") {
        if (i >= 0) out.splice(i, 1);
      } else if (i >= 0) {
        out[i] = strategicMerge(out[i], item, field);
      } else {
        out.push(structuredClone(item));
      }
    }
    return out;
  }
  if (!isObj(patch)) return structuredClone(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = strategicMerge(out[k], v, k);
  }
  return out;
}

/** A field path: map keys as `f:<key>`, keyed list items as `k:<json of key>`. */
export type FieldPath = string[];

/** Every leaf field path of a value (scalars, atomic lists, empty maps are leaves). */
export function fieldPaths(value: Json, path: FieldPath = [], field = ""): FieldPath[] {
  if (Array.isArray(value)) {
    const key = mergeKey(field, value);
    if (!key || value.length === 0) return [path];
    return value.flatMap((item) =>
      isObj(item)
        ? fieldPaths(item, [...path, `k:${JSON.stringify({ [key]: item[key] })}`])
        : [path]
    );
  }
  if (isObj(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return [path];
    return entries.flatMap(([k, v]) => fieldPaths(v, [...path, `f:${k}`], k));
  }
  return [path];
}

/** The value at a field path, or undefined. */
export function valueAt(value: Json, path: FieldPath): Json {
  let cur: Json = value;
  for (const seg of path) {
    if (seg.startsWith("f:")) {
      cur = isObj(cur) ? cur[seg.slice(2)] : undefined;
    } else {
      const [k, v] = Object.entries(JSON.parse(seg.slice(2)) as Obj)[0]!;
      cur = Array.isArray(cur) ? cur.find((i) => isObj(i) && i[k] === v) : undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/**
 * Removes every field at `paths`, then the maps, lists and list items left empty. All paths are
 * resolved before anything is deleted, so removing a keyed item's key field (`mountPath`) does
 * not hide its other fields from the removal: a list item a manager stopped applying goes whole.
 */
export function removeAll(value: Json, paths: FieldPath[]): void {
  // Each path as the chain of containers it passes through (resolved before any deletion).
  const resolved = paths.map((path) => {
    const chain: Json[] = [value];
    let cur: Json = value;
    for (const seg of path) {
      cur = valueAt(cur, [seg]);
      if (cur === undefined) return undefined;
      chain.push(cur);
    }
    return { path, chain };
  }).filter((r): r is { path: FieldPath; chain: Json[] } => r !== undefined && r.path.length > 0);
  const detach = (parent: Json, seg: string, child: Json) => {
    if (Array.isArray(parent)) {
      const i = parent.indexOf(child);
      if (i >= 0) parent.splice(i, 1);
    } else if (isObj(parent) && seg.startsWith("f:")) {
      delete parent[seg.slice(2)];
    }
  };
  for (const { path, chain } of resolved) {
    detach(chain[chain.length - 2], path[path.length - 1]!, chain[chain.length - 1]);
  }
  const empty = (v: Json) =>
    (isObj(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0);
  for (const { path, chain } of resolved) {
    for (let i = chain.length - 2; i > 0; i--) {
      if (empty(chain[i])) detach(chain[i - 1], path[i - 1]!, chain[i]);
    }
  }
}

/** Encodes field paths as a FieldsV1 document (`{"f:spec":{"f:replicas":{}}}`). */
export function toFieldsV1(paths: FieldPath[]): Obj {
  const root: Obj = {};
  for (const path of paths) {
    let cur = root;
    for (const seg of path) {
      cur[seg] ??= {};
      cur = cur[seg] as Obj;
    }
  }
  return root;
}

/** Decodes a FieldsV1 document into leaf field paths. */
export function fromFieldsV1(fields: Obj, path: FieldPath = []): FieldPath[] {
  const entries = Object.entries(fields).filter(([k]) => k !== ".");
  if (entries.length === 0) return [path];
  return entries.flatMap(([k, v]) => fromFieldsV1(isObj(v) ? v : {}, [...path, k]));
}

/** Stable identity of a path. */
export function pathKey(path: FieldPath): string {
  return JSON.stringify(path);
}

/** True when `a` equals `b` or is a prefix of it (or vice versa). */
export function overlaps(a: FieldPath, b: FieldPath): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Deep-merges an applied configuration into the live object (the apply "merge" step). */
export function applyMerge(live: Json, applied: Json, field = ""): Json {
  if (Array.isArray(applied)) {
    const key = mergeKey(field, applied);
    if (!key || !Array.isArray(live)) return structuredClone(applied);
    const out = live.map((i) => structuredClone(i));
    for (const item of applied) {
      if (!isObj(item)) continue;
      const i = out.findIndex((o) => isObj(o) && o[key] === item[key]);
      if (i >= 0) out[i] = applyMerge(out[i], item, field);
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (!isObj(applied)) return structuredClone(applied);
  const out: Obj = isObj(live) ? { ...live } : {};
  for (const [k, v] of Object.entries(applied)) out[k] = applyMerge(out[k], v, k);
  return out;
}
