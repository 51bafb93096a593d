/**
 * Errors a run store throws that its callers handle: the run manager stops a run it no longer
 * owns on {@link LeaseLostError} and fails the run (not the store) on
 * {@link UnserializableValueError}.
 *
 * @module
 */

/**
 * A fenced write was refused: the writer's lease on the run was taken over by another replica
 * (or released). Nothing was written; the writer must stop executing the run.
 *
 * @example
 * ```ts
 * import { LeaseLostError } from "./errors.ts";
 * const error = new LeaseLostError("r1", "host:8080:12:ab12");
 * console.log(error.message);
 * ```
 */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  /** The run whose lease was lost. */
  readonly runId: string;

  constructor(runId: string, owner: string, options?: ErrorOptions) {
    super(
      `Cannot write run "${runId}": replica "${owner}" no longer holds its lease (another replica took the run over); this replica stops executing it`,
      options,
    );
    this.runId = runId;
  }
}

/**
 * A value given to the store cannot be stored as JSON (a BigInt, a cycle, nesting too deep for
 * the serialiser, a throwing `toJSON`). Nothing was written and the store is unaffected.
 *
 * @example
 * ```ts
 * import { UnserializableValueError } from "./errors.ts";
 * const error = new UnserializableValueError("Cannot store the output of node \"a\": BigInt");
 * console.log(error.name); // "UnserializableValueError"
 * ```
 */
export class UnserializableValueError extends TypeError {
  override name = "UnserializableValueError";
}
