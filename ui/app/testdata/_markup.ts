/**
 * Reading markup in view tests without a DOM: the visible text, and the opening tags that
 * carry an attribute.
 *
 * @module
 */

import type { SafeHtml } from "../html.ts";

const ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#39;": "'",
};

/** Elements that flow inline: their tags separate nothing when the page is rendered. */
const INLINE = /^<\/?(a|b|code|em|i|span|strong|time|tspan)[\s>/]/;

/** Decodes the entities escapeHtml() writes. */
export function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!);
}

/**
 * The text a reader sees: tags removed (block tags count as a space, inline ones as nothing;
 * titles left out), entities decoded, white space collapsed.
 */
export function textOf(markup: SafeHtml | string): string {
  return decode(
    String(markup)
      .replace(/<title>[\s\S]*?<\/title>/g, " ")
      .replace(/<[^>]*>/g, (tag) => (INLINE.test(tag) ? "" : " ")),
  )
    .replace(/\s+/g, " ")
    .trim();
}

/** The `<tr>` elements of `markup` that have attribute `name`. */
export function rowsWith(markup: SafeHtml | string, name: string): string[] {
  return String(markup).match(new RegExp(`<tr\\s[^>]*${name}="[\\s\\S]*?<\\/tr>`, "g")) ?? [];
}

/** Every opening tag of `markup` that has attribute `name` (with `value`, when given). */
export function tagsWith(markup: SafeHtml | string, name: string, value?: string): string[] {
  const tags = String(markup).match(/<[a-zA-Z][^>]*>/g) ?? [];
  return tags.filter((tag) => {
    const match = tag.match(new RegExp(`\\s${name}="([^"]*)"`));
    return match !== null && (value === undefined || decode(match[1]!) === value);
  });
}

/** The (decoded) value of attribute `name` in one opening tag. */
export function attr(tag: string, name: string): string | undefined {
  const value = tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
  return value === undefined ? undefined : decode(value);
}
