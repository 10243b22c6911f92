// A message body whose Markdown is rendered in proportion to what changed while it streams:
// finished blocks are rendered once and left alone, only the open (last) block is re-rendered,
// and between two of those renders new text is appended as plain text.
import { decorateCodeBlocks } from "./codeblocks.js";
import { h } from "./dom.js";
import { lexBlocks, renderBlocks, renderMarkdown } from "./markdown.js";

/** The open block is re-rendered at most this often... */
const MIN_RENDER_MS = 50;
/** ...and at most 1/COST_RATIO of the time (a long open block renders less often). */
const COST_RATIO = 20;

export class MarkdownBody {
  /** @param {HTMLElement} el */
  constructor(el) {
    this.el = el;
    this.source = "";
    this.live = false;
    /** Characters of `source` whose blocks are final and rendered in `settled`. */
    this.settledChars = 0;
    this.settled = h("div", { class: "jo-md-settled" });
    this.open = h("div", { class: "jo-md-open" });
    /** @type {Text | null} raw text appended since the open block was last rendered */
    this.tail = null;
    /** @type {HTMLElement | null} */
    this.cursor = null;
    this.renderedAt = -Infinity;
    this.cost = 0;
    /** Whether plain text was appended since the open block was last rendered. */
    this.stale = false;
    el.replaceChildren(this.settled, this.open);
  }

  /**
   * Show `text` (Markdown); `live` while it still streams (a cursor, cheap appends).
   * @param {string} text
   * @param {boolean} live
   */
  set(text, live) {
    if (text === this.source && live === this.live) return;
    const appended = text.startsWith(this.source);
    if (!appended) {
      // The text was replaced (not extended): start over.
      this.settledChars = 0;
      this.settled.replaceChildren();
    }
    const delta = appended ? text.slice(this.source.length) : text;
    this.source = text;
    const wasLive = this.live;
    this.live = live;
    if (live && wasLive && appended && this.wait() > 0) {
      this.appendRaw(delta);
      this.stale = true;
      return;
    }
    this.render(live);
  }

  /** Milliseconds before the open block may be rendered again. */
  wait() {
    return this.renderedAt + Math.max(MIN_RENDER_MS, this.cost * COST_RATIO) - performance.now();
  }

  /**
   * Render the open block if plain text was appended since and its pause is over.
   * @returns {boolean} whether plain text is still waiting for a render
   */
  catchUp() {
    if (this.stale && this.wait() <= 0) this.render(this.live);
    return this.stale;
  }

  /**
   * Append text as plain text at the cursor, until the next render of the open block.
   * @param {string} text
   */
  appendRaw(text) {
    if (!this.tail) {
      this.tail = document.createTextNode("");
      const parent = this.cursor?.parentNode ?? this.open;
      parent.insertBefore(this.tail, this.cursor);
    }
    this.tail.appendData(text);
  }

  /**
   * Render the unsettled text; while live, first settle every block followed by another.
   * @param {boolean} live
   */
  render(live) {
    this.stale = false;
    const started = performance.now();
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
    this.renderedAt = performance.now();
    this.cost = this.renderedAt - started;
  }
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
