/**
 * Error classes that callers catch. Retryability and kind live on the error, never in its
 * message.
 *
 * @module
 */

/** One problem found in a workflow project, located in its file. */
export interface WorkflowIssue {
  /** Path of the file, relative to the workflow directory when inside it. */
  file: string;
  /** 1-based line; 0 when the problem has no position (e.g. a missing file). */
  line: number;
  /** 1-based column; 0 when unknown. */
  column: number;
  message: string;
  /** How to fix it, when known. */
  hint?: string;
}

/** A workflow file that cannot be parsed or does not validate. Carries every issue found. */
export class WorkflowSyntaxError extends Error {
  override name = "WorkflowSyntaxError";
  readonly issues: WorkflowIssue[];

  constructor(issues: WorkflowIssue[], options?: ErrorOptions) {
    const first = issues[0];
    const where = first ? `${first.file}:${first.line}:${first.column}: ` : "";
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(`${where}${first?.message ?? "Invalid workflow"}${more}`, options);
    this.issues = issues;
  }
}

/** Kinds of node failure. */
export const FailureKind = {
  /** The node threw or returned a rejected promise. */
  Error: "error",
  /** The attempt exceeded its timeout. */
  Timeout: "timeout",
  /** The run was cancelled (or failed fast) while the node was running. */
  Cancelled: "cancelled",
  /** The sandbox denied something the node did not declare. */
  Capability: "capability",
} as const;
/** One of {@link FailureKind}. */
export type FailureKind = typeof FailureKind[keyof typeof FailureKind];

/** Options of {@link NodeFailure}. */
export interface NodeFailureOptions extends ErrorOptions {
  /** @default "error" */
  kind?: FailureKind;
  /** A retry cannot help (capability denials, cancellations). @default false */
  nonRetryable?: boolean;
  /** The capability to declare, for capability denials, e.g. `net: "api.github.com"`. */
  capability?: string;
  /** Stack of the original error inside the sandbox. */
  remoteStack?: string;
  /** Original error class name. */
  remoteName?: string;
}

/** One failed attempt of a node, as reported by a runner. */
export class NodeFailure extends Error {
  override name = "NodeFailure";
  readonly kind: FailureKind;
  readonly nonRetryable: boolean;
  readonly capability?: string;
  readonly remoteStack?: string;
  readonly remoteName?: string;

  constructor(message: string, options: NodeFailureOptions = {}) {
    super(message, options);
    this.kind = options.kind ?? FailureKind.Error;
    this.nonRetryable = options.nonRetryable ??
      (this.kind === FailureKind.Cancelled || this.kind === FailureKind.Capability);
    this.capability = options.capability;
    this.remoteStack = options.remoteStack;
    this.remoteName = options.remoteName;
  }
}

/** The run input does not match the workflow's `inputSchema`. */
export class InputValidationError extends Error {
  override name = "InputValidationError";
  /** Each schema error as "<instancePath> <message>". */
  readonly errors: string[];

  constructor(errors: string[], options?: ErrorOptions) {
    super(`Cannot start run: input does not match inputSchema: ${errors.join("; ")}`, options);
    this.errors = errors;
  }
}
