/**
 * The fake's object store: what etcd plus the generic registry do for the resources served —
 * uid, a monotonic resourceVersion, generation, creationTimestamp, managedFields, optimistic
 * concurrency on update, server-side apply and garbage collection through ownerReferences.
 *
 * @module
 */

import {
  applyMerge,
  type FieldPath,
  fieldPaths,
  fromFieldsV1,
  mergePatch,
  overlaps,
  pathKey,
  removeAll,
  strategicMerge,
  toFieldsV1,
  valueAt,
} from "./_merge.ts";
import { parseFieldSelector, parseLabelSelector } from "./_selectors.ts";
import { type FakeResource, resourceByKind } from "./_resources.ts";
import { alreadyExists, conflict, notFound, StatusError } from "./_status.ts";

/** A stored object (plain JSON). */
export type Obj = Record<string, unknown> & { metadata: Meta };
/** Object metadata. */
export type Meta = Record<string, unknown> & {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  ownerReferences?: {
    uid: string;
    kind: string;
    name: string;
    apiVersion: string;
    controller?: boolean;
  }[];
  managedFields?: ManagedFieldsEntry[];
};
interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
}

/** What happened to an object, for the controllers. */
export type StoreEvent = {
  type: "ADDED" | "MODIFIED" | "DELETED";
  resource: FakeResource;
  object: Obj;
};

const SERVER_FIELDS = [
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "managedFields",
];

/** The object store. */
export class Store {
  #rv = 100;
  #uid = 0;
  #objects = new Map<string, Obj>();
  readonly #listeners: ((event: StoreEvent) => void)[] = [];
  /** Clock for timestamps (tests may replace it). */
  now: () => Date = () => new Date();
  /** Semantic validation of every write by a client (the result, against the live object). */
  validate: (res: FakeResource, next: Obj, live: Obj | undefined) => void = () => {};

  /** Current resourceVersion of the whole store. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Registers a listener called after every write. */
  onChange(listener: (event: StoreEvent) => void): void {
    this.#listeners.push(listener);
  }

  get(res: FakeResource, ns: string | undefined, name: string): Obj | undefined {
    const o = this.#objects.get(key(res, ns, name));
    return o ? structuredClone(o) : undefined;
  }

  /** Objects of a resource, optionally in one namespace, filtered by selectors. */
  list(
    res: FakeResource,
    ns: string | undefined,
    labelSelector?: string | null,
    fieldSelector?: string | null,
  ): Obj[] {
    const byLabel = parseLabelSelector(labelSelector ?? null);
    const byField = parseFieldSelector(fieldSelector ?? null);
    const prefix = `${res.group}/${res.plural}|${res.namespaced ? ns ?? "" : ""}|`;
    const all = [...this.#objects.entries()]
      .filter(([k]) =>
        res.namespaced && ns === undefined
          ? k.startsWith(`${res.group}/${res.plural}|`)
          : k.startsWith(prefix)
      )
      .map(([, o]) => o);
    return all.filter((o) => byLabel(o.metadata.labels ?? {}) && byField(o))
      .sort((a, b) =>
        `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace}/${b.metadata.name}`,
        )
      )
      .map((o) => structuredClone(o));
  }

  /** POST: creates, or 409 AlreadyExists. */
  create(res: FakeResource, ns: string | undefined, object: Obj, manager: string): Obj {
    const name = object.metadata.name;
    if (this.#objects.has(key(res, ns, name))) throw alreadyExists(res.plural, res.group, name);
    const stored = this.#fresh(res, ns, object);
    this.validate(res, stored, undefined);
    this.#setManager(stored, manager, "Update", fieldPaths(userFields(stored)));
    return this.#write(res, ns, stored, "ADDED");
  }

  /** PUT: replaces; a stale metadata.resourceVersion is a 409 Conflict. */
  update(res: FakeResource, ns: string | undefined, object: Obj, manager: string): Obj {
    const live = this.#require(res, ns, object.metadata.name);
    const rv = object.metadata.resourceVersion;
    if (rv !== undefined && rv !== live.metadata.resourceVersion) {
      throw conflict(
        res.plural,
        res.group,
        live.metadata.name,
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    }
    const next = this.#carry(res, live, object);
    this.validate(res, next, live);
    this.#takeChanged(live, next, manager);
    return this.#write(res, ns, next, "MODIFIED");
  }

  /** PATCH with a JSON merge patch or a strategic merge patch. */
  patch(
    res: FakeResource,
    ns: string | undefined,
    name: string,
    patch: Record<string, unknown>,
    type: "merge" | "strategic",
    manager: string,
  ): Obj {
    const live = this.#require(res, ns, name);
    const rv = (patch.metadata as Meta | undefined)?.resourceVersion;
    if (rv !== undefined && rv !== live.metadata.resourceVersion) {
      throw conflict(
        res.plural,
        res.group,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    }
    const merged =
      (type === "merge" ? mergePatch(live, patch) : strategicMerge(live, patch)) as Obj;
    const next = this.#carry(res, live, merged);
    this.validate(res, next, live);
    this.#takeChanged(live, next, manager);
    return this.#write(res, ns, next, "MODIFIED");
  }

  /** Server-side apply: creates or merges; fields the manager stopped applying are removed. */
  apply(
    res: FakeResource,
    ns: string | undefined,
    applied: Obj,
    manager: string,
    force: boolean,
  ): Obj {
    const name = applied.metadata.name;
    const existing = this.#objects.get(key(res, ns, name));
    const config = userFields(applied);
    if (res.status) delete config.status;
    const newPaths = fieldPaths(config);
    if (!existing) {
      const stored = this.#fresh(
        res,
        ns,
        { ...config, metadata: { ...(config.metadata as Meta) } } as Obj,
      );
      this.validate(res, stored, undefined);
      this.#setManager(stored, manager, "Apply", newPaths);
      return this.#write(res, ns, stored, "ADDED");
    }
    const live = structuredClone(existing);
    const owners = managers(live);
    // Conflicts: a field another manager owns, applied with a different value.
    const conflicts: string[] = [];
    for (const [other, entry] of owners) {
      if (other === manager) continue;
      for (const p of entry.paths) {
        const clash = newPaths.find((np) => pathKey(np) === pathKey(p));
        if (clash && JSON.stringify(valueAt(live, p)) !== JSON.stringify(valueAt(config, p))) {
          if (!force) {
            conflicts.push(`conflict with "${other}": .${p.map((s) => s.slice(2)).join(".")}`);
          } else entry.paths = entry.paths.filter((x) => pathKey(x) !== pathKey(p));
        }
      }
    }
    if (conflicts.length > 0) {
      throw new StatusError(
        409,
        "Conflict",
        `Apply failed with ${conflicts.length} conflict(s): ${conflicts.join("; ")}`,
        {
          name,
          group: res.group,
          kind: res.plural,
          causes: conflicts.map((message) => ({ reason: "FieldManagerConflict", message })),
        },
      );
    }
    // Removal: fields this manager applied before, not now, and nobody else owns.
    const previous = owners.get(manager)?.paths ?? [];
    const newKeys = new Set(newPaths.map(pathKey));
    let next = live as Record<string, unknown>;
    removeAll(
      next,
      previous.filter((p) =>
        !newKeys.has(pathKey(p)) &&
        ![...owners].some(([m, e]) => m !== manager && e.paths.some((x) => overlaps(x, p)))
      ),
    );
    next = applyMerge(next, config) as Record<string, unknown>;
    const result = this.#carry(res, existing, next as Obj);
    this.validate(res, result, existing);
    owners.set(manager, { operation: "Apply", paths: newPaths });
    result.metadata.managedFields = encodeManagers(
      owners,
      applied.apiVersion as string,
      this.now(),
    );
    return this.#write(res, ns, result, "MODIFIED");
  }

  /** DELETE: removes the object and, unless orphaned, everything it owns. */
  delete(res: FakeResource, ns: string | undefined, name: string, propagation = "Background"): Obj {
    const live = this.#require(res, ns, name);
    this.#objects.delete(key(res, ns, name));
    this.#rv++;
    this.#emit({ type: "DELETED", resource: res, object: live });
    if (propagation !== "Orphan") this.#collect(live.metadata.uid!);
    return live;
  }

  /** Writes controller-owned status (the status subresource). */
  setStatus(res: FakeResource, ns: string | undefined, name: string, status: unknown): void {
    const live = this.#objects.get(key(res, ns, name));
    if (!live) return;
    live.status = structuredClone(status);
    live.metadata.resourceVersion = String(++this.#rv);
  }

  #collect(ownerUid: string): void {
    for (const [k, o] of [...this.#objects]) {
      if (!o.metadata.ownerReferences?.some((ref) => ref.uid === ownerUid)) continue;
      this.#objects.delete(k);
      this.#rv++;
      const res = resourceByKind(o.apiVersion as string, o.kind as string);
      if (res) this.#emit({ type: "DELETED", resource: res, object: o });
      this.#collect(o.metadata.uid!);
    }
  }

  #require(res: FakeResource, ns: string | undefined, name: string): Obj {
    const live = this.#objects.get(key(res, ns, name));
    if (!live) throw notFound(res.plural, res.group, name);
    return structuredClone(live);
  }

  #fresh(res: FakeResource, ns: string | undefined, object: Obj): Obj {
    const o = structuredClone(object);
    for (const f of SERVER_FIELDS) delete o.metadata[f];
    o.apiVersion = res.group === "" ? res.version : `${res.group}/${res.version}`;
    o.kind = res.kind;
    if (res.namespaced) o.metadata.namespace = ns;
    else delete o.metadata.namespace;
    o.metadata.uid = `00000000-0000-4000-8000-${String(++this.#uid).padStart(12, "0")}`;
    o.metadata.creationTimestamp = this.now().toISOString().replace(/\.\d+Z$/, "Z");
    if (res.status) {
      o.metadata.generation = 1;
      delete o.status;
    }
    return o;
  }

  /** Keeps server-owned fields (uid, creation, status) and bumps generation on spec changes. */
  #carry(res: FakeResource, live: Obj, next: Obj): Obj {
    const o = structuredClone(next);
    o.apiVersion = live.apiVersion;
    o.kind = live.kind;
    o.metadata = {
      ...o.metadata,
      name: live.metadata.name,
      uid: live.metadata.uid,
      creationTimestamp: live.metadata.creationTimestamp,
      managedFields: live.metadata.managedFields,
      ...(live.metadata.namespace ? { namespace: live.metadata.namespace } : {}),
    };
    if (res.status) {
      o.status = live.status;
      if (specOf(live) !== specOf(o)) o.metadata.generation = (live.metadata.generation ?? 1) + 1;
      else o.metadata.generation = live.metadata.generation;
    }
    return o;
  }

  /** Non-apply writers own the fields whose values they changed. */
  #takeChanged(live: Obj, next: Obj, manager: string): void {
    const owners = managers(live);
    const changed = fieldPaths(userFields(next)).filter((p) =>
      JSON.stringify(valueAt(live, p)) !== JSON.stringify(valueAt(next, p))
    );
    if (changed.length === 0) return;
    const keys = new Set(changed.map(pathKey));
    for (const entry of owners.values()) {
      entry.paths = entry.paths.filter((p) => !keys.has(pathKey(p)));
    }
    const mine = owners.get(manager) ?? { operation: "Update" as const, paths: [] };
    mine.paths = [...mine.paths, ...changed];
    owners.set(manager, mine);
    next.metadata.managedFields = encodeManagers(owners, next.apiVersion as string, this.now());
  }

  #setManager(o: Obj, manager: string, operation: "Apply" | "Update", paths: FieldPath[]): void {
    o.metadata.managedFields = encodeManagers(
      new Map([[manager, { operation, paths }]]),
      o.apiVersion as string,
      this.now(),
    );
  }

  #write(res: FakeResource, ns: string | undefined, o: Obj, type: "ADDED" | "MODIFIED"): Obj {
    o.metadata.resourceVersion = String(++this.#rv);
    this.#objects.set(key(res, ns, o.metadata.name), o);
    this.#emit({ type, resource: res, object: structuredClone(o) });
    return structuredClone(o);
  }

  #emit(event: StoreEvent): void {
    for (const l of this.#listeners) l(event);
  }
}

function key(res: FakeResource, ns: string | undefined, name: string): string {
  return `${res.group}/${res.plural}|${res.namespaced ? ns ?? "" : ""}|${name}`;
}

function specOf(o: Obj): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

/** The object without server-populated metadata (what a manager can own). */
function userFields(o: Obj): Record<string, unknown> {
  const c = structuredClone(o) as Record<string, unknown> & { metadata: Meta };
  for (const f of SERVER_FIELDS) delete c.metadata[f];
  delete c.metadata.namespace;
  delete c.apiVersion;
  delete c.kind;
  return c;
}

function managers(o: Obj): Map<string, { operation: "Apply" | "Update"; paths: FieldPath[] }> {
  const out = new Map<string, { operation: "Apply" | "Update"; paths: FieldPath[] }>();
  for (const e of o.metadata.managedFields ?? []) {
    out.set(e.manager, { operation: e.operation, paths: fromFieldsV1(e.fieldsV1) });
  }
  return out;
}

function encodeManagers(
  owners: Map<string, { operation: "Apply" | "Update"; paths: FieldPath[] }>,
  apiVersion: string,
  now: Date,
): ManagedFieldsEntry[] {
  return [...owners].filter(([, e]) => e.paths.length > 0).map(([manager, e]) => ({
    manager,
    operation: e.operation,
    apiVersion,
    time: now.toISOString().replace(/\.\d+Z$/, "Z"),
    fieldsType: "FieldsV1" as const,
    fieldsV1: toFieldsV1(e.paths),
  }));
}
