/**
 * A reproducible tar writer (POSIX ustar, PAX headers for long names): entries are sorted by
 * path, parent directories are added, and every entry gets the same mtime, so the same files
 * always give the same bytes. Gzip output is deterministic too (fixed header, no file name).
 *
 * @module
 */

import { gzipSync } from "node:zlib";

/** Kinds of tar entries the builder writes. */
export const TarEntryType = {
  File: "file",
  Directory: "directory",
  Symlink: "symlink",
} as const;
/** One of {@link TarEntryType}. */
export type TarEntryType = typeof TarEntryType[keyof typeof TarEntryType];

/** One entry of a layer or archive. */
export interface TarEntry {
  /** Relative path with `/` separators, no leading `/`, no `..` (e.g. `app/bin/deno`). */
  path: string;
  type: TarEntryType;
  /** Permission bits. @default 0o644 for files, 0o755 for directories, 0o777 for symlinks */
  mode?: number;
  /** @default 0 */
  uid?: number;
  /** @default 0 */
  gid?: number;
  /** File content (type "file"). */
  data?: Uint8Array;
  /** Target of a symlink (type "symlink"). */
  linkname?: string;
}

/** Options of {@link createTar}. */
export interface TarOptions {
  /** Modification time of every entry, in seconds since the epoch. @default sourceDateEpoch() */
  mtime?: number;
}

const BLOCK = 512;
const encoder = new TextEncoder();

/**
 * The build timestamp: env `SOURCE_DATE_EPOCH` (reproducible-builds.org) when set, else 0.
 *
 * @throws {RangeError} when `SOURCE_DATE_EPOCH` is not a non-negative integer
 */
export function sourceDateEpoch(): number {
  const raw = Deno.env.get("SOURCE_DATE_EPOCH");
  if (raw === undefined || raw === "") return 0;
  if (!/^\d+$/.test(raw)) {
    throw new RangeError(
      `Cannot use SOURCE_DATE_EPOCH "${raw}": expected whole seconds since 1970, e.g. "1700000000"`,
    );
  }
  return Number(raw);
}

/**
 * Writes a tar archive of `entries`, sorted by path, with missing parent directories added.
 *
 * @throws {TypeError} on an absolute path, a `..` component, a duplicate path or a file
 * without data
 * @example
 * ```ts
 * const tar = createTar([{ path: "app/hello.txt", type: "file", data: new Uint8Array([104]) }]);
 * ```
 */
export function createTar(entries: TarEntry[], options: TarOptions = {}): Uint8Array {
  const mtime = options.mtime ?? sourceDateEpoch();
  const chunks: Uint8Array[] = [];
  for (const entry of withParents(entries)) {
    chunks.push(...encodeEntry(entry, mtime));
  }
  chunks.push(new Uint8Array(BLOCK * 2));
  return concat(chunks);
}

/** Gzips deterministically: zlib writes mtime 0 and no file name into the header. */
export function gzip(data: Uint8Array, level = 6): Uint8Array {
  return new Uint8Array(gzipSync(data, { level }));
}

function withParents(entries: TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const entry of entries) {
    const path = normalisePath(entry.path);
    if (byPath.has(path)) throw new TypeError(`Cannot write tar entry "${path}": duplicate path`);
    if (entry.type === TarEntryType.File && entry.data === undefined) {
      throw new TypeError(`Cannot write tar entry "${path}": a file needs data`);
    }
    if (entry.type === TarEntryType.Symlink && !entry.linkname) {
      throw new TypeError(`Cannot write tar entry "${path}": a symlink needs a linkname`);
    }
    byPath.set(path, { ...entry, path });
  }
  for (const path of [...byPath.keys()]) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (!byPath.has(parent)) byPath.set(parent, { path: parent, type: TarEntryType.Directory });
    }
  }
  // Byte-wise order of the UTF-8 paths, so the order does not depend on the locale.
  return [...byPath.values()].sort((a, b) =>
    compareBytes(encoder.encode(a.path), encoder.encode(b.path))
  );
}

function normalisePath(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  if (
    trimmed === "" || trimmed.startsWith("/") ||
    trimmed.split("/").some((p) => p === ".." || p === "." || p === "")
  ) {
    throw new TypeError(
      `Cannot write tar entry "${path}": paths must be relative, without "." or ".." components`,
    );
  }
  return trimmed;
}

function encodeEntry(entry: TarEntry, mtime: number): Uint8Array[] {
  const isDir = entry.type === TarEntryType.Directory;
  const name = isDir ? `${entry.path}/` : entry.path;
  const data = entry.type === TarEntryType.File ? entry.data ?? new Uint8Array() : new Uint8Array();
  const linkname = entry.linkname ?? "";
  const mode = entry.mode ??
    (isDir ? 0o755 : entry.type === TarEntryType.Symlink ? 0o777 : 0o644);
  const typeflag = isDir ? "5" : entry.type === TarEntryType.Symlink ? "2" : "0";

  const out: Uint8Array[] = [];
  const split = splitName(name);
  const pax: Record<string, string> = {};
  if (!split) pax.path = name;
  if (encoder.encode(linkname).length > 100) pax.linkpath = linkname;
  if (Object.keys(pax).length > 0) {
    const records = encodePax(pax);
    out.push(
      header({
        name: "././@PaxHeader",
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: records.length,
        mtime,
        typeflag: "x",
        linkname: "",
        prefix: "",
      }),
      pad(records),
    );
  }
  out.push(
    header({
      name: split ? split.name : name.slice(-100),
      prefix: split ? split.prefix : "",
      mode,
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
      size: data.length,
      mtime,
      typeflag,
      linkname: pax.linkpath ? "" : linkname,
    }),
  );
  if (data.length > 0) out.push(pad(data));
  return out;
}

/** ustar splits names longer than 100 bytes into a prefix (<= 155) and a name at a "/". */
function splitName(name: string): { name: string; prefix: string } | undefined {
  const bytes = encoder.encode(name);
  if (bytes.length <= 100) return { name, prefix: "" };
  if (bytes.length > 256) return undefined;
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/") continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(rest).length <= 100 && rest) {
      return { name: rest, prefix };
    }
  }
  return undefined;
}

function encodePax(records: Record<string, string>): Uint8Array {
  let text = "";
  for (const [key, value] of Object.entries(records)) {
    const body = ` ${key}=${value}\n`;
    const bodyLength = encoder.encode(body).length;
    // The length prefix counts itself.
    let length = bodyLength + 1;
    while (String(length).length + bodyLength !== length) {
      length = String(length).length + bodyLength;
    }
    text += `${length}${body}`;
  }
  return encoder.encode(text);
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
}

function header(f: HeaderFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeString(block, 0, 100, f.name);
  writeOctal(block, 100, 8, f.mode);
  writeOctal(block, 108, 8, f.uid);
  writeOctal(block, 116, 8, f.gid);
  writeOctal(block, 124, 12, f.size);
  writeOctal(block, 136, 12, f.mtime);
  block.fill(0x20, 148, 156); // checksum is computed with spaces in its own field
  writeString(block, 156, 1, f.typeflag);
  writeString(block, 157, 100, f.linkname);
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  writeOctal(block, 329, 8, 0);
  writeOctal(block, 337, 8, 0);
  writeString(block, 345, 155, f.prefix);
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  writeString(block, 148, 8, `${checksum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  if (bytes.length > length) {
    throw new RangeError(`Cannot write tar header field "${value}": longer than ${length} bytes`);
  }
  block.set(bytes, offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) {
    throw new RangeError(`Cannot write tar header value ${value}: too large for the ustar format`);
  }
  writeString(block, offset, length, `${digits.padStart(length - 1, "0")}\0`);
}

function pad(data: Uint8Array): Uint8Array {
  const rest = data.length % BLOCK;
  if (rest === 0) return data;
  const padded = new Uint8Array(data.length + BLOCK - rest);
  padded.set(data);
  return padded;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  }
  return a.length - b.length;
}

/** Concatenates byte arrays. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
