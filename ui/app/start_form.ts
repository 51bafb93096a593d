/**
 * The "start a run" form: a JSON input checked in the browser for syntax, and by the server
 * against the workflow's inputSchema (its 400 details are shown inline, next to the field).
 *
 * @module
 */

import type { WorkflowInfo } from "../describe_workflow.ts";
import { html, type SafeHtml } from "./html.ts";

/** What {@link parseInputText} made of the field. */
export type ParsedInput = { ok: true; value: unknown } | { ok: false; error: string };

/** The field's JSON; an empty field means `{}` (what the API uses for no input). */
export function parseInputText(text: string): ParsedInput {
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `The input is not valid JSON: ${(error as Error).message}` };
  }
}

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  default?: unknown;
  minimum?: number;
  examples?: unknown[];
};

function placeholder(schema: Schema | undefined): unknown {
  if (!schema) return null;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return "";
    case "integer":
    case "number":
      return schema.minimum ?? 0;
    case "boolean":
      return false;
    case "array":
      return [];
    case "object":
      return exampleInput(schema);
    default:
      return null;
  }
}

/**
 * A starting value for the input field: for an object schema, its required properties (and
 * those with a default) with placeholder values of the right type; `{}` otherwise.
 */
export function exampleInput(schema: unknown): Record<string, unknown> {
  const s = (typeof schema === "object" && schema !== null ? schema : {}) as Schema;
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    if (s.required?.includes(name) || prop.default !== undefined) out[name] = placeholder(prop);
  }
  return out;
}

/**
 * The messages of an API error for the form: the schema errors of a 400 `invalid_input`
 * (`details.errors`), else the error message.
 */
export function inputErrors(body: unknown, fallback: string): string[] {
  const error = (body as { error?: { message?: unknown; details?: { errors?: unknown } } })?.error;
  const list = error?.details?.errors;
  if (Array.isArray(list) && list.length > 0) return list.map(String);
  return [typeof error?.message === "string" ? error.message : fallback];
}

/** Options of {@link renderStartForm}. */
export interface StartFormOptions {
  /** Field text. @default the example input of the schema */
  text?: string;
  /** Errors to show under the field. @default [] */
  errors?: readonly string[];
  /** While a start request is in flight. @default false */
  busy?: boolean;
}

/** The form; errors are linked to the field with aria-describedby and marked aria-invalid. */
export function renderStartForm(info: WorkflowInfo, options: StartFormOptions = {}): SafeHtml {
  const errors = options.errors ?? [];
  const text = options.text ?? JSON.stringify(exampleInput(info.inputSchema), null, 2);
  const required = ((info.inputSchema ?? {}) as Schema).required ?? [];
  const hint = info.inputSchema === undefined
    ? "Any JSON value; empty means {}."
    : `Checked against the workflow's inputSchema${
      required.length > 0 ? ` (required: ${required.join(", ")})` : ""
    }; empty means {}.`;
  return html`
    <form id="start-form" class="start-form"
      novalidate><label for="run-input">Run input (JSON)</label><p id="run-input-hint" class="hint">${hint}</p><textarea id="run-input" name="input" rows="5" spellcheck="false" autocomplete="off" aria-describedby="run-input-hint run-input-errors"${errors
          .length > 0
        ? html`
          aria-invalid="true"
        `
        : ""}>${text}</textarea><div id="run-input-errors" class="field-errors" role="alert">${errors
          .length > 0
        ? html`<ul>${errors.map((e) => html`<li>${e}</li>`)}</ul>`
        : ""}</div><button type="submit"${options.busy
        ? html`
          disabled
        `
        : ""}>${options.busy ? "Starting…" : "Start run"}</button></form>
  `;
}
