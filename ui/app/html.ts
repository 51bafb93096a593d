/**
 * A tiny, escaping HTML template tag: every interpolated value is escaped unless it is itself
 * {@link SafeHtml} (the result of another `html` template or of {@link raw}). Views build strings
 * with it, so they are pure functions that unit tests can read, and nothing a workflow or a node
 * produced can inject markup into the page.
 *
 * @module
 */

/** Markup that is safe to insert as is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Values an `html` template accepts: arrays are concatenated, null/undefined/false render nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/**
 * Builds markup, escaping every interpolated value.
 *
 * @example
 * ```ts
 * html`<b>${"<script>"}</b>`.value; // "<b>&lt;script&gt;</b>"
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Trusted markup (constants only, never data). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
