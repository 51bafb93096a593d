/**
 * A sequential periodic task on an injectable clock that runs only while there is work: it
 * stops by itself when `busy()` turns false and is restarted with `poke()`.
 *
 * @module
 */

import type { Clock } from "../engine/mod.ts";
import { pause } from "./_timers.ts";

/** Calls `beat()` every `everyMs` while `busy()` holds; a beat never overlaps the next. */
export class Heartbeat {
  #controller: AbortController | undefined;
  #stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly busy: () => boolean,
    private readonly beat: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts beating when there is work and it is not beating yet. */
  poke(): void {
    if (this.#controller || this.#stopped || !this.busy()) return;
    const controller = new AbortController();
    this.#controller = controller;
    void this.#loop(controller);
  }

  /** Stops for good. */
  stop(): void {
    this.#stopped = true;
    this.#controller?.abort();
  }

  async #loop(controller: AbortController): Promise<void> {
    try {
      while (!controller.signal.aborted && this.busy()) {
        await pause(this.clock, this.everyMs, controller.signal);
        if (controller.signal.aborted) break;
        await this.beat().catch(this.onError);
      }
    } finally {
      // Synchronous with the last busy() check: a poke() after it starts a new loop.
      if (this.#controller === controller) this.#controller = undefined;
    }
  }
}
