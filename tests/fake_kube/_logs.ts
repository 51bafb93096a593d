/**
 * Container logs of the fake's pods, with `tailLines` and `follow` like the kubelet serves them.
 *
 * @module
 */

interface PodLog {
  lines: string[];
  followers: Set<ReadableStreamDefaultController<Uint8Array>>;
}

/** Log lines per pod; followers receive lines appended later. */
export class LogStore {
  #logs = new Map<string, PodLog>();
  #encoder = new TextEncoder();

  #log(ns: string, pod: string): PodLog {
    const key = `${ns}/${pod}`;
    let log = this.#logs.get(key);
    if (!log) {
      log = { lines: [], followers: new Set() };
      this.#logs.set(key, log);
    }
    return log;
  }

  /** Appends lines to a pod's log and pushes them to its followers. */
  append(ns: string, pod: string, ...lines: string[]): void {
    const log = this.#log(ns, pod);
    log.lines.push(...lines);
    for (const f of log.followers) {
      for (const line of lines) f.enqueue(this.#encoder.encode(`${line}\n`));
    }
  }

  /** The log as the API server returns it (a stream when following). */
  read(
    ns: string,
    pod: string,
    options: { tailLines?: number; follow: boolean },
  ): ReadableStream<Uint8Array> {
    const log = this.#log(ns, pod);
    const lines = options.tailLines !== undefined
      ? log.lines.slice(-options.tailLines || log.lines.length)
      : log.lines;
    const initial = options.tailLines === 0 ? [] : lines;
    let self: ReadableStreamDefaultController<Uint8Array>;
    return new ReadableStream({
      start: (controller) => {
        self = controller;
        for (const line of initial) controller.enqueue(this.#encoder.encode(`${line}\n`));
        if (options.follow) log.followers.add(controller);
        else controller.close();
      },
      cancel: () => {
        log.followers.delete(self);
      },
    });
  }

  /** Ends every follower of a pod (the pod is gone). */
  close(ns: string, pod: string): void {
    const log = this.#logs.get(`${ns}/${pod}`);
    if (!log) return;
    for (const f of log.followers) {
      try {
        f.close();
      } catch {
        // Already cancelled by the client.
      }
    }
    log.followers.clear();
  }

  /** Ends every follower (the server is stopping). */
  closeAll(): void {
    for (const key of this.#logs.keys()) {
      const [ns, pod] = key.split("/") as [string, string];
      this.close(ns, pod);
    }
  }
}
