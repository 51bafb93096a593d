/**
 * Build progress: the events the builder reports (steps and blob transfers) and a renderer
 * that turns them into text for a sink the CLI provides (stderr). The builder itself never
 * prints.
 *
 * @module
 */

/** States of a blob transfer. */
export const TransferState = {
  Started: "started",
  Progress: "progress",
  /** The registry already had the blob: nothing was uploaded. */
  Exists: "exists",
  /** The registry mounted the blob from another repository. */
  Mounted: "mounted",
  Done: "done",
} as const;
/** One of {@link TransferState}. */
export type TransferState = typeof TransferState[keyof typeof TransferState];

/** A build event. */
export type BuildProgress =
  | { kind: "step"; message: string }
  | {
    kind: "transfer";
    direction: "push" | "pull";
    digest: string;
    state: TransferState;
    /** Bytes transferred so far. */
    bytes: number;
    total: number;
  };

/** Receives build events. */
export type ProgressCallback = (event: BuildProgress) => void;

/** Options of {@link createProgressRenderer}. */
export interface ProgressRendererOptions {
  /** Redraw one line per blob in place (`\r`); otherwise print a line per state change. @default false */
  tty?: boolean;
}

/**
 * A {@link ProgressCallback} that writes human-readable progress to `write`: a line per step,
 * and per blob a live `pushing sha256:1a2b3c4d5e6f  12.0 MiB / 95.3 MiB  13%` line on a
 * terminal, or start/finish lines otherwise.
 *
 * @example
 * ```ts
 * const onProgress = createProgressRenderer((text) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
 * ```
 */
export function createProgressRenderer(
  write: (text: string) => void,
  options: ProgressRendererOptions = {},
): ProgressCallback {
  const tty = options.tty ?? false;
  let openLine = false;
  const closeLine = () => {
    if (openLine) write("\n");
    openLine = false;
  };
  return (event) => {
    if (event.kind === "step") {
      closeLine();
      write(`${event.message}\n`);
      return;
    }
    const verb = event.direction === "push" ? "pushing" : "pulling";
    const name = `${event.digest.slice(0, 19)}`;
    switch (event.state) {
      case TransferState.Started:
        if (!tty) write(`${verb} ${name} (${formatBytes(event.total)})\n`);
        return;
      case TransferState.Progress:
        if (!tty) return;
        write(
          `\r${verb} ${name}  ${formatBytes(event.bytes)} / ${formatBytes(event.total)}  ${
            percent(event)
          }`,
        );
        openLine = true;
        return;
      case TransferState.Exists:
        closeLine();
        write(`${name} already in the registry\n`);
        return;
      case TransferState.Mounted:
        closeLine();
        write(`${name} mounted from another repository\n`);
        return;
      case TransferState.Done:
        if (tty) write(`\r${verb} ${name}  ${formatBytes(event.total)}  done\x1b[K\n`);
        else write(`${verb} ${name} done\n`);
        openLine = false;
        return;
    }
  };
}

/** Bytes as B, KiB or MiB with one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function percent(event: { bytes: number; total: number }): string {
  return event.total === 0 ? "100%" : `${Math.floor((event.bytes / event.total) * 100)}%`;
}
