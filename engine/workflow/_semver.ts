/**
 * Workflow versions: semantic versions (semver.org 2.0.0), with `MAJOR.MINOR` accepted and
 * normalised to `MAJOR.MINOR.0`.
 *
 * @module
 */

const NUMBER = "(0|[1-9]\\d*)";
const IDENTIFIER = "(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)";
const SEMVER = new RegExp(
  `^${NUMBER}\\.${NUMBER}\\.${NUMBER}` +
    `(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?` +
    `(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$`,
);
const SHORT = new RegExp(`^${NUMBER}\\.${NUMBER}$`);

/** A parsed semantic version. */
export interface Semver {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string[];
}

/** Parses a semantic version (`1.2` counts as `1.2.0`), or undefined when it is not one. */
export function parseSemver(text: string): Semver | undefined {
  const short = SHORT.exec(text);
  if (short) {
    return {
      major: Number(short[1]),
      minor: Number(short[2]),
      patch: 0,
      prerelease: [],
      build: [],
    };
  }
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  return {
    major,
    minor,
    patch,
    prerelease: match[4]?.split(".") ?? [],
    build: match[5]?.split(".") ?? [],
  };
}

/**
 * The canonical text of a version: `1.0` → `1.0.0`; undefined when it is not a version.
 *
 * @example
 * ```ts
 * normaliseVersion("1.10"); // "1.10.0"
 * normaliseVersion("v1"); // undefined
 * ```
 */
export function normaliseVersion(text: string): string | undefined {
  const version = parseSemver(text);
  if (!version) return undefined;
  const pre = version.prerelease.length ? `-${version.prerelease.join(".")}` : "";
  const build = version.build.length ? `+${version.build.join(".")}` : "";
  return `${version.major}.${version.minor}.${version.patch}${pre}${build}`;
}

/** A fix for a text that is not a version, e.g. `v1.2.3` → `1.2.3`, `1` → `1.0.0`. */
export function suggestVersion(text: string): string {
  const stripped = text.trim().replace(/^[vV]\s*/, "");
  if (/^\d+$/.test(stripped)) return `${Number(stripped)}.0.0`;
  const parts = stripped.split(".");
  if (parts.length >= 2 && parts.slice(0, 3).every((part) => /^\d+$/.test(part))) {
    const numbers = parts.slice(0, 3).map((part) => String(Number(part)));
    while (numbers.length < 3) numbers.push("0");
    return numbers.join(".");
  }
  return "1.0.0";
}

/**
 * Orders two versions by semver precedence (build metadata ignored).
 *
 * @returns Negative when `a` < `b`, 0 when equal, positive when `a` > `b`.
 * @throws {RangeError} When either is not a version.
 * @example
 * ```ts
 * ["1.10.0", "1.2.0"].sort(compareVersions); // ["1.2.0", "1.10.0"]
 * ```
 */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parseSemver(a), parseSemver(b)];
  if (!x || !y) throw new RangeError(`Cannot compare versions: "${x ? b : a}" is not semver`);
  for (const key of ["major", "minor", "patch"] as const) {
    if (x[key] !== y[key]) return x[key] - y[key];
  }
  if (!x.prerelease.length || !y.prerelease.length) {
    return y.prerelease.length - x.prerelease.length;
  }
  for (let i = 0; i < Math.max(x.prerelease.length, y.prerelease.length); i++) {
    const [p, q] = [x.prerelease[i], y.prerelease[i]];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}
