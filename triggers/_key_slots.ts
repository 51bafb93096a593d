/**
 * `concurrency.key` for queue triggers (SPEC §10): the key value of a message is read from its
 * payload (decoded as the run input) with the workflow's JSON Pointer, and each key value has at
 * most `maxRuns` deliveries in flight per trigger. A message of a key that is at its limit waits
 * for that key's turn without taking one of the trigger's `maxConcurrency` slots, so a busy key
 * cannot fill the trigger and keep other keys' messages in the stream.
 *
 * @module
 */

import { concurrencyKeyOf, type ConcurrencySettings } from "../engine/mod.ts";
import { decodePayload } from "./_payload.ts";

/** The key value of a message: the run input's, or the empty key when it cannot decode. */
export function messageKey(
  concurrency: ConcurrencySettings | undefined,
  data: Uint8Array,
  contentType: string | undefined,
): string {
  if (concurrency?.key === undefined) return "";
  const decoded = decodePayload(data, contentType);
  return decoded.ok ? concurrencyKeyOf(concurrency, decoded.input) : "";
}

/** In-flight deliveries per key value, with FIFO turns for the keys at their limit. */
export class KeySlots {
  readonly concurrency: ConcurrencySettings | undefined;
  readonly perKey: number;
  #inFlight = new Map<string, number>();
  #turns = new Map<string, (() => void)[]>();
  #parked = 0;

  /**
   * @param concurrency the workflow's; without `key` every key is unlimited (no slot is ever
   *   refused)
   */
  constructor(concurrency: ConcurrencySettings | undefined) {
    this.concurrency = concurrency;
    this.perKey = concurrency?.key === undefined ? Infinity : concurrency.maxRuns;
  }

  /** Deliveries waiting for their key's turn. */
  get parked(): number {
    return this.#parked;
  }

  /** Whether a delivery of `key` could take a slot now. */
  free(key: string): boolean {
    return (this.#inFlight.get(key) ?? 0) < this.perKey && !this.#turns.has(key);
  }

  /** Takes a slot of `key` when one is free. */
  tryTake(key: string): boolean {
    if (!this.free(key)) return false;
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
    return true;
  }

  /**
   * Resolves once a slot of `key` is taken (at once when one is free, else when an earlier
   * delivery of the key releases its slot, in arrival order).
   *
   * @throws the signal's reason when it aborts first (the slot is then not taken)
   */
  take(key: string, signal: AbortSignal): Promise<void> {
    if (this.tryTake(key)) return Promise.resolve();
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const turn = () => {
        signal.removeEventListener("abort", onAbort);
        this.#parked--;
        resolve();
      };
      const onAbort = () => {
        const turns = this.#turns.get(key) ?? [];
        turns.splice(turns.indexOf(turn), 1);
        if (turns.length === 0) this.#turns.delete(key);
        this.#parked--;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const turns = this.#turns.get(key);
      if (turns) turns.push(turn);
      else this.#turns.set(key, [turn]);
      this.#parked++;
    });
  }

  /** Gives a slot of `key` back: to the key's next waiting delivery, if any. */
  release(key: string): void {
    const turns = this.#turns.get(key);
    const next = turns?.shift();
    if (turns?.length === 0) this.#turns.delete(key);
    if (next) return next(); // the slot passes on: the count stays
    const left = (this.#inFlight.get(key) ?? 1) - 1;
    if (left > 0) this.#inFlight.set(key, left);
    else this.#inFlight.delete(key);
  }
}
