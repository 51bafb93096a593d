/**
 * Local and mounted secrets (SPEC §3) and their redaction.
 *
 * Sources, merged per service (a later source replaces a service's whole entry):
 * 1. `<dir>/.secrets.yaml` — a map of service → map (nested maps allowed) or string;
 * 2. `<dir>/.secrets/` — one entry per service (see below);
 * 3. the mount dir (`/app/secrets` when it exists) — same layout as `.secrets/`; it wins, as
 *    the cluster's source of truth. Its `pipedreamer` entry is the engine's own API token and
 *    is never given to nodes.
 *
 * A secrets directory holds, per service, a file `svc`, `svc.yaml`, `svc.yml` or `svc.json`
 * (parsed; a map stays a map, anything else is the file's text), or a directory `svc/` whose
 * files are keys (`svc/token` → `{ token }`, text). Entries starting with "." are not services,
 * which skips Kubernetes' `..data` and `..<timestamp>` entries while the symlinks a Secret
 * volume makes (`svc -> ..data/svc`) are followed.
 *
 * Error messages name the file and the line and column, never the content.
 *
 * @module
 */

import { isAbsolute, join, relative } from "node:path";
import { parse, YAMLParseError } from "yaml";
import type { CompiledWorkflow } from "./workflow_model.ts";

/** Options of {@link loadSecrets}. */
export interface LoadSecretsOptions {
  /**
   * Directory where the cluster mounts secrets; ignored when it does not exist.
   * @default "/app/secrets"
   */
  mountDir?: string;
}

const EXTENSIONS = /\.(ya?ml|json)$/;
const MAX_DEPTH = 4;
/** The mount's entry for the engine's own API token (issue 3), not a service. */
const ENGINE_ENTRY = "pipedreamer";

type SecretMap = Record<string, unknown>;

function fail(detail: string, cause?: unknown): Error {
  return new Error(`Cannot load secrets: ${detail}`, cause === undefined ? {} : { cause });
}

function isMap(value: unknown): value is SecretMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw fail(`cannot read "${path}": ${(error as Error).message}`, error);
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw fail(`cannot read "${path}": ${(error as Error).message}`, error);
  }
}

/** Text of a plain secret file: the trailing newline(s) of `echo` or an editor dropped. */
function plain(text: string): string {
  return text.replace(/[\r\n]+$/, "");
}

/**
 * Parses YAML without ever echoing it: the parser's message quotes the source, so only its
 * error code and position are kept (and no cause is attached).
 */
function parseYaml(text: string, file: string): unknown {
  try {
    return parse(text, { logLevel: "error" });
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw fail(`"${file}" is not valid YAML`);
    const what = error.code.toLowerCase().replaceAll("_", " ");
    const pos = error.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
    throw fail(`"${file}" is not valid YAML (${what}${where})`);
  }
}

/** Parses JSON without echoing it (V8's message quotes the source): position only. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    if (position === undefined) throw fail(`"${file}" is not valid JSON`);
    const before = text.slice(0, Number(position)).split("\n");
    const line = before.length;
    const column = (before.at(-1)?.length ?? 0) + 1;
    throw fail(`"${file}" is not valid JSON (at line ${line}, column ${column})`);
  }
}

/** A service's file: parsed when it holds a map, else its text. */
async function loadServiceFile(path: string): Promise<unknown> {
  const text = await readText(path);
  if (path.endsWith(".json")) {
    const value = parseJson(text, path);
    return isMap(value) ? value : plain(text);
  }
  if (EXTENSIONS.test(path)) {
    const value = parseYaml(text, path);
    return isMap(value) ? value : plain(text);
  }
  try {
    const value = parse(text, { logLevel: "silent" });
    if (isMap(value)) return value;
  } catch {
    // Not YAML: a plain secret such as a token.
  }
  return plain(text);
}

/** A directory of key files: `svc/token` → `{ token: "…" }`, subdirectories nested. */
async function loadKeyDir(path: string, depth: number): Promise<SecretMap> {
  const out: SecretMap = {};
  for (const entry of await listEntries(path)) {
    const full = join(path, entry);
    const info = await statEntry(full);
    if (info.isDirectory && depth < MAX_DEPTH) out[entry] = await loadKeyDir(full, depth + 1);
    else if (info.isFile) out[entry] = plain(await readText(full));
  }
  return out;
}

async function listEntries(path: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(path)) {
      if (!entry.name.startsWith(".")) names.push(entry.name);
    }
  } catch (error) {
    throw fail(`cannot read "${path}": ${(error as Error).message}`, error);
  }
  return names.sort();
}

async function statEntry(path: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    throw fail(`cannot read "${path}": ${(error as Error).message}`, error);
  }
}

/** A secrets directory (`.secrets/` or the mount): one entry per service. */
async function loadSecretsDir(dir: string): Promise<SecretMap> {
  const out: SecretMap = {};
  const origin = new Map<string, string>();
  for (const entry of await listEntries(dir)) {
    const full = join(dir, entry);
    const info = await statEntry(full);
    const service = info.isDirectory ? entry : entry.replace(EXTENSIONS, "");
    const previous = origin.get(service);
    if (previous !== undefined) {
      throw fail(`service "${service}" is defined twice, by "${previous}" and "${full}"`);
    }
    origin.set(service, full);
    if (info.isDirectory) out[service] = await loadKeyDir(full, 1);
    else if (info.isFile) out[service] = await loadServiceFile(full);
  }
  return out;
}

async function loadSecretsYaml(file: string): Promise<SecretMap> {
  const value = parseYaml(await readText(file), file);
  if (value === null || value === undefined) return {};
  if (!isMap(value)) {
    throw fail(`"${file}" must be a map of service names to secrets, e.g. github: { token: … }`);
  }
  return value;
}

/**
 * Loads the secrets of the workflow in `dir`, keyed by service (see the module docs for the
 * sources and their precedence). No source at all gives `{}`.
 *
 * @throws {Error} "Cannot load secrets: …" naming the file, for unreadable or invalid files;
 * never quoting their content.
 * @example
 * ```ts
 * import { loadSecrets } from "./secrets.ts";
 * const secrets = await loadSecrets("./examples/github-digest");
 * console.log(Object.keys(secrets)); // ["github", "slack"]
 * ```
 */
export async function loadSecrets(
  dir: string,
  options: LoadSecretsOptions = {},
): Promise<Record<string, unknown>> {
  const secrets: SecretMap = {};
  const file = join(dir, ".secrets.yaml");
  if (await exists(file)) Object.assign(secrets, await loadSecretsYaml(file));
  const local = join(dir, ".secrets");
  if (await exists(local)) Object.assign(secrets, await loadSecretsDir(local));
  const mount = options.mountDir ?? "/app/secrets";
  if (await exists(mount)) {
    const mounted = await loadSecretsDir(mount);
    delete mounted[ENGINE_ENTRY];
    Object.assign(secrets, mounted);
  }
  return secrets;
}

/** Secrets of each sub-workflow of a workflow, by the sub-workflow's absolute directory. */
export type SubWorkflowSecrets = Record<string, Record<string, unknown>>;

/** Where the mount holds a sub-workflow's own secrets: `<mount>/.workflows/<dir from the top>`. */
export const SUB_WORKFLOW_SECRETS_DIR = ".workflows";

/**
 * Loads the secrets of every sub-workflow of `workflow` (`subWorkflows`): each from its own
 * directory's `.secrets.yaml` / `.secrets/`, and from `<mount>/.workflows/<its directory
 * relative to the top workflow>` (how deploy mounts them; the mount's top level stays the top
 * workflow's). A sub-workflow without secrets of its own gets none: never its parent's.
 *
 * @throws {Error} "Cannot load secrets: …" as {@link loadSecrets}
 * @example
 * ```ts
 * const workflow = await loadWorkflow("examples/issue-approval");
 * const children = await loadSubWorkflowSecrets(workflow);
 * const redact = createRedactor([await loadSecrets(workflow.dir), children]);
 * ```
 */
export async function loadSubWorkflowSecrets(
  workflow: CompiledWorkflow,
  options: LoadSecretsOptions = {},
): Promise<SubWorkflowSecrets> {
  const out: SubWorkflowSecrets = {};
  const mount = options.mountDir ?? "/app/secrets";
  for (const dir of Object.keys(workflow.subWorkflows ?? {}).sort()) {
    if (dir === workflow.dir) continue;
    const rel = relative(workflow.dir, dir);
    const inside = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
    // Outside the top workflow's directory nothing is mounted for it: a directory that is
    // never there.
    const mountDir = inside
      ? join(mount, SUB_WORKFLOW_SECRETS_DIR, rel)
      : join(dir, ".secrets", ".none");
    out[dir] = await loadSecrets(dir, { mountDir });
  }
  return out;
}

/** Options of {@link createRedactor}. */
export interface RedactorOptions {
  /** Shorter values are not redacted (they would match ordinary text). @default 4 */
  minLength?: number;
  /** What replaces a secret. @default "[REDACTED]" */
  replacement?: string;
}

function collectStrings(value: unknown, out: Set<string>, depth = 0): void {
  if (typeof value === "string") out.add(value);
  else if (depth < 16 && typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) collectStrings(inner, out, depth + 1);
  }
}

function base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * A function that replaces every secret value in a text: every string leaf of `secrets`
 * (nested maps and lists included), as is and in its JSON-escaped, URL-encoded and base64
 * forms. One regular expression is built once, longest values first. Numbers are not
 * redacted (they would match ordinary text): quote numeric secrets in YAML.
 *
 * @throws Nothing: a text without secrets comes back unchanged.
 * @example
 * ```ts
 * import { createRedactor } from "./secrets.ts";
 * const redact = createRedactor({ github: { token: "ghp_abc123" } });
 * redact("Authorization: Bearer ghp_abc123"); // "Authorization: Bearer [REDACTED]"
 * ```
 */
export function createRedactor(
  secrets: unknown,
  options: RedactorOptions = {},
): (text: string) => string {
  const minLength = options.minLength ?? 4;
  const replacement = options.replacement ?? "[REDACTED]";
  const raw = new Set<string>();
  collectStrings(secrets, raw);
  const forms = new Set<string>();
  for (const value of raw) {
    if (value.length < minLength) continue;
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
    forms.add(encodeURIComponent(value));
    forms.add(base64(value));
  }
  if (forms.size === 0) return (text) => text;
  const pattern = new RegExp(
    [...forms]
      .sort((a, b) => b.length - a.length)
      .map((form) => form.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"))
      .join("|"),
    "g",
  );
  return (text) => typeof text === "string" ? text.replace(pattern, replacement) : text;
}
