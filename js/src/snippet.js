// A search snippet with its matches marked, shared by the panel's /search results and the sidebar.
import { h } from "./dom.js";

/**
 * Snippet text with its highlighted ranges in <mark>, built from text nodes only.
 * @param {string} snippet
 * @param {[number, number][]} ranges `[start, end)` offsets into the snippet
 * @returns {(string | HTMLElement)[]}
 */
export function highlight(snippet, ranges) {
  const out = [];
  let at = 0;
  for (const [start, end] of [...(ranges ?? [])].sort((a, b) => a[0] - b[0])) {
    if (start < at || end <= start || end > snippet.length) continue;
    if (start > at) out.push(snippet.slice(at, start));
    out.push(h("mark", { text: snippet.slice(start, end) }));
    at = end;
  }
  if (at < snippet.length) out.push(snippet.slice(at));
  return out;
}

/**
 * The snippet as one `.jo-hit-snippet` element.
 * @param {string} snippet
 * @param {[number, number][]} ranges
 * @returns {HTMLElement}
 */
export function snippetElement(snippet, ranges) {
  return h("div", { class: "jo-hit-snippet" }, ...highlight(snippet, ranges));
}
