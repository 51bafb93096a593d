/**
 * Fixture files (SPEC §8): reading and checking one, and the fetch mock built from its
 * `fetch` list. Its `k8s` list (mocked `ctx.k8s` calls) is kept as is: the Kubernetes mock
 * that reads it is given to the fixture runner (k8s's `createK8sMock`).
 *
 * @module
 */

import { join } from "node:path";
import type { FetchMock, FetchRequestInfo, FetchResponseInfo } from "./types.ts";

/** One mocked response of a fixture's `fetch` list. */
export interface FetchFixture {
  service: string;
  /** @default "GET" */
  method: string;
  /** Matched exactly when it has a query (`?`); otherwise the request's query is ignored. */
  path: string;
  /** @default 200 */
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is, anything else as JSON. */
  body?: unknown;
}

/** A parsed fixture file. */
export interface Fixture {
  description?: string;
  /** Node input (node fixtures) or run input (pipeline fixtures). */
  input?: unknown;
  /** Overlay on the workflow's `config:`. */
  config?: Record<string, unknown>;
  /** Overlay on the loaded secrets, per service. */
  secrets?: Record<string, unknown>;
  fetch: FetchFixture[];
  /** The `k8s` list, `[{ method, path, query?, status, body }]`, read by the Kubernetes mock. */
  k8s?: unknown[];
  /** Expected node output or run result, compared by deep equality. */
  expected?: unknown;
  /** `"expected"` was present (an expected `null` is still an expectation). */
  hasExpected: boolean;
  /** The node or run must fail with a message containing this text. */
  error?: string;
  /** Node fixtures: the children the node must choose with `ctx.route()`. */
  routes?: string[];
}

const KEYS = [
  "description",
  "input",
  "config",
  "secrets",
  "fetch",
  "k8s",
  "expected",
  "error",
  "routes",
];
const FETCH_KEYS = ["service", "method", "path", "status", "headers", "body"];

/**
 * Checks a fixture document.
 *
 * @throws {TypeError} naming the first problem, e.g. an unknown key.
 */
export function parseFixture(text: string): Fixture {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`Cannot read fixture: invalid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isRecord(doc)) throw new TypeError("Cannot read fixture: the document must be an object");
  for (const key of Object.keys(doc)) {
    if (!KEYS.includes(key)) {
      throw new TypeError(
        `Cannot read fixture: unknown key "${key}"; allowed keys: ${KEYS.join(", ")}`,
      );
    }
  }
  if (doc.config !== undefined && !isRecord(doc.config)) {
    throw new TypeError(`Cannot read fixture: "config" must be an object`);
  }
  if (doc.secrets !== undefined && !isRecord(doc.secrets)) {
    throw new TypeError(`Cannot read fixture: "secrets" must be an object keyed by service`);
  }
  if (doc.error !== undefined && typeof doc.error !== "string") {
    throw new TypeError(`Cannot read fixture: "error" must be a message substring`);
  }
  if (doc.error !== undefined && "expected" in doc) {
    throw new TypeError(`Cannot read fixture: use either "expected" or "error", not both`);
  }
  if (
    doc.routes !== undefined &&
    !(Array.isArray(doc.routes) && doc.routes.every((r) => typeof r === "string"))
  ) {
    throw new TypeError(`Cannot read fixture: "routes" must be a list of node ids`);
  }
  if (doc.fetch !== undefined && !Array.isArray(doc.fetch)) {
    throw new TypeError(`Cannot read fixture: "fetch" must be a list`);
  }
  if (doc.k8s !== undefined && !Array.isArray(doc.k8s)) {
    throw new TypeError(
      `Cannot read fixture: "k8s" must be a list of { "method", "path", "status", "body" }`,
    );
  }
  return {
    description: typeof doc.description === "string" ? doc.description : undefined,
    input: doc.input,
    config: doc.config as Record<string, unknown> | undefined,
    secrets: doc.secrets as Record<string, unknown> | undefined,
    fetch: ((doc.fetch ?? []) as unknown[]).map(parseFetchEntry),
    k8s: doc.k8s as unknown[] | undefined,
    expected: doc.expected,
    hasExpected: "expected" in doc,
    error: doc.error as string | undefined,
    routes: doc.routes as string[] | undefined,
  };
}

function parseFetchEntry(entry: unknown, index: number): FetchFixture {
  const where = `Cannot read fixture: fetch[${index}]`;
  if (!isRecord(entry)) throw new TypeError(`${where} must be an object`);
  for (const key of Object.keys(entry)) {
    if (!FETCH_KEYS.includes(key)) {
      throw new TypeError(`${where} has unknown key "${key}"; allowed: ${FETCH_KEYS.join(", ")}`);
    }
  }
  if (typeof entry.service !== "string" || typeof entry.path !== "string") {
    throw new TypeError(`${where} needs "service" and "path" strings`);
  }
  if (entry.method !== undefined && typeof entry.method !== "string") {
    throw new TypeError(`${where}: "method" must be a string such as "GET"`);
  }
  if (entry.status !== undefined && !Number.isInteger(entry.status)) {
    throw new TypeError(`${where}: "status" must be an integer HTTP status`);
  }
  return {
    service: entry.service,
    method: (entry.method as string | undefined ?? "GET").toUpperCase(),
    path: entry.path,
    status: entry.status as number | undefined ?? 200,
    headers: isRecord(entry.headers) ? entry.headers as Record<string, string> : undefined,
    body: entry.body,
  };
}

/** A request as fixtures and messages name it: `GET github /user/repos`. */
export function describeRequest(request: Pick<FetchRequestInfo, "method" | "service" | "path">) {
  return `${request.method.toUpperCase()} ${request.service} ${request.path}`;
}

/** A fetch mock and the requests it could not answer. */
export interface FixtureFetchMock {
  mock: FetchMock;
  /** Requests that matched no entry, as `GET github /user/repos`. */
  unmatched: string[];
}

/**
 * Answers requests from `entries`: service, method and path must match (the query only when
 * the entry's path has one). Entries matching the same request answer in order, and the last
 * one keeps answering, so `[500, 200]` models a flaky service.
 */
export function createFixtureFetchMock(entries: FetchFixture[]): FixtureFetchMock {
  const used = new Array<number>(entries.length).fill(0);
  const unmatched: string[] = [];
  const mock: FetchMock = (request) => {
    const candidates = entries
      .map((entry, index) => ({ entry, index }))
      .filter(({ entry }) => matches(entry, request));
    const pick = candidates.find(({ index }) => used[index] === 0) ?? candidates.at(-1);
    if (!pick) {
      const name = describeRequest(request);
      unmatched.push(name);
      return Promise.reject(
        new Error(
          `Cannot fetch ${name}: no entry of the fixture's "fetch" list matches; add ` +
            `{ "service": "${request.service}", "method": "${request.method.toUpperCase()}", ` +
            `"path": "${request.path}", "body": … } or run with --live`,
        ),
      );
    }
    used[pick.index] = (used[pick.index] ?? 0) + 1;
    const response: FetchResponseInfo = {
      status: pick.entry.status,
      headers: pick.entry.headers,
      body: pick.entry.body,
    };
    return Promise.resolve(response);
  };
  return { mock, unmatched };
}

function matches(entry: FetchFixture, request: FetchRequestInfo): boolean {
  if (entry.service !== request.service) return false;
  if (entry.method !== request.method.toUpperCase()) return false;
  const path = entry.path.includes("?") ? request.path : request.path.split("?")[0];
  return entry.path === path;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The node a node-fixture file tests: `hello.json` and `hello.empty.json` test `hello`. */
export function nodeOfFile(file: string): string {
  const base = file.split(/[\\/]/).at(-1) ?? file;
  return base.replace(/\.json$/, "").split(".")[0] ?? base;
}

/** The fixture files of one kind, by name without ".json" (`hello` before `hello.empty`). */
export async function listFixtures(dir: string, kind: "fixtures" | "pipeline"): Promise<string[]> {
  const folder = join(dir, "tests", kind);
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (entry.name.endsWith(".json") && (entry.isFile || entry.isSymlink)) {
        files.push(join(folder, entry.name));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  // By name without ".json", so "hello.json" comes before "hello.empty.json".
  const stem = (file: string) => file.slice(0, -".json".length);
  return files.sort((a, b) => (stem(a) < stem(b) ? -1 : stem(a) > stem(b) ? 1 : 0));
}

/** `overlay` over `base`, merged per service when both are maps. */
export function overlaySecrets(
  base: Record<string, unknown>,
  overlay: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [service, value] of Object.entries(overlay ?? {})) {
    const current = merged[service];
    merged[service] = isRecord(current) && isRecord(value) ? { ...current, ...value } : value;
  }
  return merged;
}
