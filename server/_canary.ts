/**
 * The live engine's side of a canary release: which new runs go to the canary. The canary is
 * described by a small JSON file (`serve --canary-file`, a ConfigMap the kubelet keeps current
 * in the pod) that is re-read whenever it changes, so starting, changing or ending a canary
 * needs no restart of the live engine. The split is a counter, not a coin: with `percent` p,
 * the n-th new run (from 0) goes to the canary iff ⌊(n+1)p/100⌋ > ⌊np/100⌋, so 10 % is exactly
 * one run in ten and any 100 consecutive runs hold exactly p canary runs.
 *
 * @module
 */

/** A canary release as the live engine sees it. */
export interface CanaryTarget {
  /** Base URL of the canary engine (its own Service), e.g. `http://hello-canary.prod.svc:8080`. */
  url: string;
  /** Share of new runs sent to the canary, 1–99. */
  percent: number;
  /** The canary's workflow version (for status). */
  version: string;
}

/** Where one new run goes. */
export const Track = { Live: "live", Canary: "canary" } as const;
/** One of {@link Track}. */
export type Track = typeof Track[keyof typeof Track];

/** How many idempotency keys the split remembers (a repeated key goes where it went before). */
const MAX_KEYS = 100_000;

/**
 * Parses the canary file's text: `{}` (or an empty file) means no canary.
 *
 * @throws {TypeError} naming the file and the field that is wrong.
 */
export function parseCanaryFile(text: string, file: string): CanaryTarget | undefined {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`Cannot read canary file ${file}: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Cannot read canary file ${file}: expected a JSON object`);
  }
  const o = value as Record<string, unknown>;
  if (Object.keys(o).length === 0) return undefined;
  const unknown = Object.keys(o).filter((k) => !["url", "percent", "version"].includes(k));
  if (unknown.length > 0) {
    throw new TypeError(`Cannot read canary file ${file}: unknown field "${unknown[0]}"`);
  }
  if (typeof o.url !== "string" || !/^https?:\/\/[^/\s]+\/?$/.test(o.url)) {
    throw new TypeError(
      `Cannot read canary file ${file}: "url" must be an http(s) base URL, got ${
        JSON.stringify(o.url)
      }`,
    );
  }
  if (!Number.isInteger(o.percent) || (o.percent as number) < 1 || (o.percent as number) > 99) {
    throw new TypeError(
      `Cannot read canary file ${file}: "percent" must be an integer from 1 to 99, got ${
        JSON.stringify(o.percent)
      }`,
    );
  }
  if (typeof o.version !== "string" || o.version === "") {
    throw new TypeError(`Cannot read canary file ${file}: "version" must be a non-empty string`);
  }
  return { url: o.url.replace(/\/+$/, ""), percent: o.percent as number, version: o.version };
}

/** True when run `n` (0-based) of a split at `percent` goes to the canary. */
export function isCanaryRun(n: number, percent: number): boolean {
  return Math.floor((n + 1) * percent / 100) > Math.floor(n * percent / 100);
}

/** The split of new runs between the live engine and its canary. */
export class CanarySplit {
  readonly #file: string;
  readonly #onError: (error: unknown) => void;
  readonly #token: string | undefined;
  #stamp = "";
  #target: CanaryTarget | undefined;
  #next = 0;
  #routed = { live: 0, canary: 0 };
  #keys = new Map<string, Track>();

  /**
   * `file`: the canary file (a missing file means no canary); `token`: the API token both
   * engines share (sent on requests this engine makes itself); `onError` sees a bad file.
   */
  constructor(
    file: string,
    options: { token?: string; onError?: (error: unknown) => void } = {},
  ) {
    this.#file = file;
    this.#token = options.token;
    this.#onError = options.onError ?? (() => {});
  }

  /** Headers authenticating a request of this engine to the canary. */
  authHeaders(): Record<string, string> {
    return this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
  }

  /**
   * The current canary, re-reading the file when it changed. A file that cannot be parsed is
   * reported once and means no canary (every run stays live).
   */
  async target(): Promise<CanaryTarget | undefined> {
    let stamp: string;
    try {
      const info = await Deno.stat(this.#file);
      stamp = `${info.ino}:${info.mtime?.getTime()}:${info.size}`;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      stamp = "missing";
    }
    if (stamp === this.#stamp) return this.#target;
    this.#stamp = stamp;
    let next: CanaryTarget | undefined;
    if (stamp !== "missing") {
      try {
        next = parseCanaryFile(await Deno.readTextFile(this.#file), this.#file);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) next = undefined;
        else this.#onError(error);
      }
    }
    if (JSON.stringify(next) !== JSON.stringify(this.#target)) {
      // A new canary (or a new share) starts a new sequence.
      this.#target = next;
      this.#next = 0;
      this.#routed = { live: 0, canary: 0 };
      this.#keys.clear();
    }
    return this.#target;
  }

  /**
   * Decides where a new run goes: the canary to forward it to, or undefined for this engine. A
   * repeated idempotency key goes where its first run went.
   */
  async decide(idempotencyKey?: string): Promise<CanaryTarget | undefined> {
    const target = await this.target();
    if (!target) return undefined;
    let track = idempotencyKey === undefined ? undefined : this.#keys.get(idempotencyKey);
    if (track === undefined) {
      track = isCanaryRun(this.#next++, target.percent) ? Track.Canary : Track.Live;
      this.#routed[track]++;
      if (idempotencyKey !== undefined) {
        if (this.#keys.size >= MAX_KEYS) this.#keys.delete(this.#keys.keys().next().value!);
        this.#keys.set(idempotencyKey, track);
      }
    }
    return track === Track.Canary ? target : undefined;
  }

  /**
   * A run decided for the canary that could not reach it (nothing was sent) runs live after
   * all: counted, and remembered for its key, as live.
   */
  tookBack(idempotencyKey?: string): void {
    this.#routed.canary--;
    this.#routed.live++;
    if (idempotencyKey !== undefined) this.#keys.set(idempotencyKey, Track.Live);
  }

  /** New runs routed to each side since the current canary started (in this process). */
  routed(): { live: number; canary: number } {
    return { ...this.#routed };
  }
}
