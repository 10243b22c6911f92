// A message body whose Markdown is rendered in proportion to what changed while it streams:
// finished blocks are rendered once and left alone, only the open (last) block is re-rendered,
// and only when new text can change its Markdown; plain words are appended as a text node.
import { decorateCodeBlocks } from "./codeblocks.js";
import { h } from "./dom.js";
import { lexBlocks, renderBlocks, renderMarkdown } from "./markdown.js";

/**
 * Text that renders as itself when appended inside a line that already has text: no line
 * break, no Markdown or HTML syntax, nothing GFM could turn into an autolink (`.`, `:`, `@`).
 */
const PLAIN = /^[^\n\r\\`*_~[\]()<>!&|#.:@]*$/;

export class MarkdownBody {
  /** @param {HTMLElement} el */
  constructor(el) {
    this.el = el;
    this.source = "";
    this.live = false;
    /** Whether the last line of `source` has text (a line's first characters decide its
     * block: list item, heading, code...; words appended after them cannot change it). */
    this.lineHasText = false;
    /** Characters of `source` whose blocks are final and rendered in `settled`. */
    this.settledChars = 0;
    this.settled = h("div", { class: "jo-md-settled" });
    this.open = h("div", { class: "jo-md-open" });
    /** @type {Text | null} raw text appended since the open block was last rendered */
    this.tail = null;
    /** @type {HTMLElement | null} */
    this.cursor = null;
    el.replaceChildren(this.settled, this.open);
  }

  /**
   * Show `text` (Markdown); `live` while it still streams (a cursor, cheap appends).
   * `added`, when known, is what was appended to the text shown last: a long text built by
   * appends is then never compared or scanned whole (each would copy it, on every frame).
   * @param {string} text
   * @param {boolean} live
   * @param {string | null} [added]
   */
  set(text, live, added = null) {
    if (text === this.source && live === this.live) return;
    const known = added !== null && text.length === this.source.length + added.length;
    const appended = known || text.startsWith(this.source);
    if (!appended) {
      // The text was replaced (not extended): start over.
      this.settledChars = 0;
      this.settled.replaceChildren();
    }
    const delta = known ? /** @type {string} */ (added) : appended ? text.slice(this.source.length) : text;
    const inLine = appended && this.lineHasText;
    this.lineHasText = lastLineHasText(delta, inLine);
    this.source = text;
    const wasLive = this.live;
    this.live = live;
    if (live && wasLive && inLine && this.cursor && PLAIN.test(delta)) {
      this.appendRaw(delta);
      return;
    }
    this.render(live);
  }

  /**
   * Append text as plain text at the cursor, until the next render of the open block.
   * @param {string} text
   */
  appendRaw(text) {
    if (!this.tail) {
      // Onto the text before the cursor when there is one: a paragraph of a single text node
      // costs Chromium the least to grow (a second one made each append about 1.4x dearer).
      const before = this.cursor?.previousSibling;
      if (before instanceof Text) {
        this.tail = before;
      } else {
        this.tail = document.createTextNode("");
        const parent = this.cursor?.parentNode ?? this.open;
        parent.insertBefore(this.tail, this.cursor);
      }
    }
    this.tail.appendData(text);
  }

  /**
   * Render the unsettled text; while live, first settle every block followed by another.
   * @param {boolean} live
   */
  render(live) {
    const text = this.source.slice(this.settledChars);
    /** @type {DocumentFragment} */
    let fragment;
    if (live) {
      const tokens = lexBlocks(text);
      let last = tokens.length - 1;
      while (last > 0 && tokens[last].type === "space") last -= 1;
      const done = tokens.slice(0, Math.max(last, 0));
      const chars = done.reduce((sum, t) => sum + t.raw.length, 0);
      // Only settle when the blocks are exactly the start of the text (they normally are).
      if (chars > 0 && done.map((t) => t.raw).join("") === text.slice(0, chars)) {
        const settled = renderBlocks(done, tokens.links);
        decorateCodeBlocks(settled);
        this.settled.append(settled);
        this.settledChars += chars;
        fragment = renderBlocks(tokens.slice(last), tokens.links);
      } else {
        fragment = renderBlocks(tokens, tokens.links);
      }
    } else {
      fragment = renderMarkdown(text);
    }
    this.tail = null;
    this.cursor = live ? appendCursor(fragment) : null;
    decorateCodeBlocks(fragment);
    this.open.replaceChildren(fragment);
    // Markdown may drop a paragraph's trailing spaces; the next appended word needs its space.
    const shown = this.cursor?.previousSibling?.textContent ?? "";
    if (live && /[ \t]$/.test(text) && !/[ \t]$/.test(shown) && !this.cursor?.closest("pre")) {
      this.appendRaw(" ");
    }
  }
}

/**
 * Whether the last line of `before + delta` has a character other than a space or a tab.
 * @param {string} delta
 * @param {boolean} before the same of `before`
 */
function lastLineHasText(delta, before) {
  for (let i = delta.length - 1; i >= 0; i--) {
    const c = delta[i];
    if (c === "\n") return false;
    if (c !== " " && c !== "\t") return true;
  }
  return before;
}

/**
 * Put the blinking cursor at the end of the last text-bearing element; return it.
 * @param {DocumentFragment} fragment
 * @returns {HTMLElement}
 */
function appendCursor(fragment) {
  /** @type {ParentNode} */
  let node = fragment;
  for (;;) {
    let last = node.lastChild;
    // Skip the newlines marked puts between blocks.
    while (last && last.nodeType === Node.TEXT_NODE && !last.textContent?.trim()) {
      last = last.previousSibling;
    }
    if (!last || last.nodeType !== Node.ELEMENT_NODE) break;
    if (["BR", "HR", "IMG"].includes(/** @type {Element} */ (last).tagName)) break;
    node = /** @type {Element} */ (last);
  }
  const cursor = h("span", { class: "jo-cursor", "aria-hidden": "true" });
  node.append(cursor);
  return cursor;
}
