/// <reference lib="dom" />
/**
 * Small DOM helpers of the browser code: markup insertion that keeps the keyboard focus, the
 * screen-reader announcer, and the ticker of running durations.
 *
 * @module
 */

import { formatDuration } from "./format.ts";
import type { SafeHtml } from "./html.ts";

/** The element matching `selector` inside `root`. @throws {TypeError} when there is none */
export function element<T extends Element = HTMLElement>(
  selector: string,
  root: ParentNode = document,
): T {
  const found = root.querySelector<T>(selector);
  if (!found) throw new TypeError(`Cannot find element: no "${selector}" in the page`);
  return found;
}

/**
 * Replaces the content of `target` with `markup`; when the focus was inside it on an element
 * with `data-focus-key`, the new element with the same key gets the focus back (live updates
 * must not throw keyboard users out of the table or the graph).
 */
export function setHtml(target: Element, markup: SafeHtml): void {
  const active = document.activeElement;
  const key = active && target.contains(active)
    ? (active.closest("[data-focus-key]") as HTMLElement | SVGElement | null)?.dataset.focusKey
    : undefined;
  target.innerHTML = markup.value;
  if (key === undefined) return;
  const again = target.querySelector<HTMLElement | SVGElement>(
    `[data-focus-key="${CSS.escape(key)}"]`,
  );
  again?.focus({ preventScroll: true });
}

/** Says `text` to screen readers through the page's polite live region. */
export function announce(text: string): void {
  const region = document.getElementById("announcer");
  if (!region) return;
  // Changing the text node (not appending) keeps the region short; the same text twice is
  // still announced because it is cleared first.
  region.textContent = "";
  requestAnimationFrame(() => (region.textContent = text));
}

/** Advances every `.live-duration` once a second; returns the stop function. */
export function startDurationTicker(): () => void {
  const timer = setInterval(() => {
    const now = Date.now();
    for (const el of document.querySelectorAll<HTMLElement>(".live-duration[data-started]")) {
      const started = Date.parse(el.dataset.started ?? "");
      if (!Number.isNaN(started)) el.textContent = formatDuration(Math.max(0, now - started));
    }
  }, 1000);
  return () => clearInterval(timer);
}

/** Runs `render` once per animation frame however often it is requested. */
export function frameScheduler(render: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      render();
    });
  };
}
