/// <reference lib="dom" />
/**
 * Mouse and keyboard on a rendered graph: click or Enter/Space selects a node, arrow keys and
 * Home/End move the focus along the graph, Escape clears the selection.
 *
 * @module
 */

import type { GraphLayout } from "../layout_graph.ts";
import { type NavigationKey, neighbour } from "./graph_svg.ts";

const NAVIGATION: readonly string[] = [
  "ArrowLeft",
  "ArrowRight",
  "ArrowUp",
  "ArrowDown",
  "Home",
  "End",
];

function nodeOf(target: EventTarget | null): string | undefined {
  const el = target instanceof Element ? target.closest<SVGGElement>("[data-node]") : null;
  return el?.dataset.node;
}

/** Wires `container` (which holds the graph's `<svg>`); `select(undefined)` clears. */
export function bindGraphKeys(
  container: HTMLElement,
  layout: () => GraphLayout,
  select: (node: string | undefined) => void,
): void {
  container.addEventListener("click", (event) => {
    const id = nodeOf(event.target);
    if (id !== undefined) select(id);
  });
  container.addEventListener("keydown", (event) => {
    const id = nodeOf(event.target);
    if (id === undefined) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      select(id);
    } else if (event.key === "Escape") {
      select(undefined);
    } else if (NAVIGATION.includes(event.key)) {
      const next = neighbour(layout(), id, event.key as NavigationKey);
      if (next === undefined) return;
      event.preventDefault();
      container.querySelector<SVGGElement>(`[data-node="${CSS.escape(next)}"]`)?.focus();
    }
  });
}
