/**
 * The fsync behind SQLite's `full` durability: after group commits, an fdatasync of the WAL
 * file on Deno's I/O threads (not inside `COMMIT` on the main thread); commits made while one
 * runs share the next.
 *
 * A commit is urgent (someone acknowledges it once durable: an fsync starts at once) or lazy
 * (nobody waits for it but the commits it is followed by: it is covered by the next fsync an
 * urgent commit starts, or by one started {@link LAZY_SYNC_MS} later at the latest).
 *
 * @module
 */

import { dirname } from "node:path";

/** How long a lazy commit waits for an urgent one to share its fsync. */
export const LAZY_SYNC_MS = 10;

/** fdatasync of `path` (a file or a directory) on Deno's I/O threads. */
async function syncPath(path: string): Promise<void> {
  const file = await Deno.open(path, { read: true });
  try {
    await file.syncData();
  } finally {
    file.close();
  }
}

/** Fsyncs one WAL file for the commits that wait on it; the only owner of the fsync state. */
export class WalSync {
  /**
   * The WAL file, opened once for the default fsync (SQLite keeps the WAL file while a
   * connection is open: it is reset in place, never replaced, so this handle stays valid).
   */
  #walFile: Deno.FsFile | undefined;
  /** Whether the WAL's directory entry was fsynced. */
  #walDirSynced = false;
  /** Settlers of commits not yet covered by an fsync (an error: the fsync failed). */
  #unsynced: ((error?: unknown) => void)[] = [];
  /** Set by close(): every commit is urgent. */
  #closing = false;
  /** An urgent commit waits among `#unsynced`. */
  #urgent = false;
  /** Starts the fsync of lazy commits when no urgent one did. */
  #lazyTimer: ReturnType<typeof setTimeout> | undefined;
  /** The running fsync loop, while there is one. */
  #syncing: Promise<void> | undefined;
  /**
   * Set once an fsync failed: what the kernel could not write may be lost even if a later fsync
   * succeeds, so every later write is refused (as PostgreSQL stops on a failed fsync).
   */
  #failure: Error | undefined;

  /**
   * @param wal the WAL file's path
   * @param syncFile replaces the fdatasync (tests)
   * @param beforeRound called when an fsync ended, before the next one is decided on (the store
   *   commits the writes queued meanwhile, so that they share the next fsync)
   */
  constructor(
    readonly wal: string,
    private readonly syncFile?: (path: string) => Promise<void>,
    private readonly beforeRound?: () => void,
  ) {}

  /** An fsync is running: commits made now wait for the next one. */
  get busy(): boolean {
    return this.#syncing !== undefined;
  }

  /** The error every write gets once an fsync failed, else undefined. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * Calls `settle` once the commit just made is durable (with an error if the fsync failed).
   * @param urgent start an fsync now (else within {@link LAZY_SYNC_MS})
   */
  afterCommit(settle: (error?: unknown) => void, urgent = true): void {
    this.#unsynced.push(settle);
    if (urgent || this.#closing) this.#urgent = true;
    if (this.#syncing) return;
    if (this.#urgent) this.#start();
    else this.#lazyTimer ??= setTimeout(this.#start, LAZY_SYNC_MS);
  }

  /** Resolves once every commit made so far is durable. */
  durable(): Promise<void> {
    if (this.#unsynced.length === 0 && !this.#syncing) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.afterCommit((error) => error === undefined ? resolve() : reject(error));
    });
  }

  /** Waits for the pending fsyncs, then closes the WAL handle. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#unsynced.length > 0) this.#start();
    while (this.#syncing) await this.#syncing;
    this.#walFile?.close();
    this.#walFile = undefined;
  }

  /**
   * Fsyncs the WAL until no commit waits for it: each round covers the commits made before it
   * started; the commits made during a round wait for the next one.
   */
  #start = (): void => {
    if (this.#lazyTimer !== undefined) clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    if (this.#syncing) return;
    const wal = this.wal;
    this.#syncing = (async () => {
      while (this.#unsynced.length > 0) {
        const waiting = this.#unsynced;
        this.#unsynced = [];
        this.#urgent = false;
        let failure: unknown;
        try {
          if (this.syncFile) await this.syncFile(wal);
          else {
            this.#walFile ??= await Deno.open(wal, { read: true });
            await this.#walFile.syncData();
          }
          if (!this.#walDirSynced) {
            await (this.syncFile ?? syncPath)(dirname(wal));
            this.#walDirSynced = true;
          }
        } catch (error) {
          const detail = error instanceof Error ? error.message : String(error);
          failure = new Error(
            `Cannot make the write durable: fsync of "${wal}" failed: ${detail}`,
            { cause: error },
          );
          this.#failure ??= new Error(
            `Cannot write to run store: an fsync of "${wal}" failed (${detail}); restart the ` +
              "process to reopen the store",
            { cause: error },
          );
        }
        // After a failed fsync, the commits made since cannot be trusted either.
        if (this.#failure) failure ??= this.#failure;
        for (const settle of waiting) settle(failure);
        this.beforeRound?.();
        if (!this.#urgent && !this.#closing && this.#unsynced.length > 0) {
          this.#lazyTimer ??= setTimeout(this.#start, LAZY_SYNC_MS);
          break;
        }
      }
      this.#syncing = undefined;
    })();
  };
}
