/**
 * Validation of the run input against the workflow's `inputSchema` (JSON Schema, via ajv),
 * before a run starts. (The schema itself is checked at compile time by `_compile_input_schema.ts`.)
 *
 * @module
 */

import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { InputValidationError } from "../errors.ts";
import type { CompiledWorkflow } from "../workflow_model.ts";

/** One compiled validator per workflow object (a reload gives a new object). */
const validators = new WeakMap<CompiledWorkflow, ValidateFunction>();

function validatorFor(workflow: CompiledWorkflow): ValidateFunction {
  let validate = validators.get(workflow);
  if (validate) return validate;
  // A fresh Ajv per schema: two workflow versions may reuse the same `$id`.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false });
  try {
    validate = ajv.compile(workflow.inputSchema as Record<string, unknown>);
  } catch (error) {
    throw new TypeError(
      `Cannot validate input: inputSchema of workflow "${workflow.name}" is not a valid JSON ` +
        `Schema: ${(error as Error).message}`,
      { cause: error },
    );
  }
  validators.set(workflow, validate);
  return validate;
}

function describe(error: ErrorObject): string {
  const path = error.instancePath === "" ? "/" : error.instancePath;
  const extra = error.keyword === "additionalProperties"
    ? ` "${(error.params as { additionalProperty: string }).additionalProperty}"`
    : "";
  return `${path} ${error.message ?? "is invalid"}${extra}`;
}

/**
 * Checks `input` against `workflow.inputSchema`; does nothing when the workflow has none.
 * The schema is compiled once per workflow object.
 *
 * @throws {InputValidationError} when the input does not match; `errors` reads like
 *   `["/name must be string"]` (`/` is the input itself)
 * @throws {TypeError} when the schema itself is invalid
 * @example
 * ```ts
 * import { validateInput } from "./validate_input.ts";
 * import type { CompiledWorkflow } from "../workflow_model.ts";
 * declare const workflow: CompiledWorkflow;
 * validateInput(workflow, { name: "ada" });
 * ```
 */
export function validateInput(workflow: CompiledWorkflow, input: unknown): void {
  if (workflow.inputSchema === undefined) return;
  const validate = validatorFor(workflow);
  if (validate(input)) return;
  throw new InputValidationError((validate.errors ?? []).map(describe));
}
