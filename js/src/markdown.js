// Markdown -> sanitized DOM, with highlighted code blocks.
import createDOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import sql from "highlight.js/lib/languages/sql";
import { Marked } from "marked";

hljs.registerLanguage("python", python);
hljs.registerLanguage("bash", bash);
hljs.registerLanguage("json", json);
hljs.registerLanguage("sql", sql);
hljs.registerLanguage("javascript", javascript);
hljs.registerLanguage("markdown", markdown);
hljs.registerAliases(["py", "ipython", "python3"], { languageName: "python" });
hljs.registerAliases(["sh", "shell", "console", "zsh"], { languageName: "bash" });

const marked = new Marked({ gfm: true, breaks: false, async: false });
// Raw HTML in a model's Markdown is shown as the text it is (a quoted `<img onerror>` reads as
// typed), never as markup: no broken images, no requests to URLs the model chose.
marked.use({
  renderer: {
    /** @param {{text: string, block?: boolean}} token */
    html({ text, block }) {
      const escaped = escapeHtml(text);
      return block ? `<p>${escaped}</p>` : escaped;
    },
  },
});

/** @param {string} text */
function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const purify = createDOMPurify(window);
// Links from a model open in a new tab and never get the opener.
purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

/** DOMPurify settings: no active content, no style (it could restyle the whole page). */
const PURIFY_CONFIG = {
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "svg", "math"],
  FORBID_ATTR: ["style", "id", "name"],
  RETURN_DOM_FRAGMENT: true,
};

/**
 * Parse Markdown and sanitize it into a DocumentFragment; code blocks are highlighted.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function renderMarkdown(text) {
  return toFragment(/** @type {string} */ (marked.parse(text ?? "")));
}

/**
 * Split Markdown into its top-level blocks (each token's `raw` is its exact source).
 * @param {string} text
 * @returns {import("marked").TokensList}
 */
export function lexBlocks(text) {
  return marked.lexer(text);
}

/**
 * Render already lexed blocks (from `lexBlocks`) like `renderMarkdown` does.
 * @param {import("marked").Token[]} tokens
 * @param {import("marked").TokensList["links"]} links
 * @returns {DocumentFragment}
 */
export function renderBlocks(tokens, links) {
  const list = /** @type {import("marked").TokensList} */ (Object.assign([...tokens], { links }));
  return toFragment(marked.parser(list));
}

/**
 * Sanitize HTML from marked into a fragment: highlighted code, remote images as links.
 * @param {string} html
 * @returns {DocumentFragment}
 */
function toFragment(html) {
  const fragment = /** @type {DocumentFragment} */ (
    /** @type {unknown} */ (purify.sanitize(html, PURIFY_CONFIG))
  );
  for (const code of fragment.querySelectorAll("pre > code")) {
    highlight(/** @type {HTMLElement} */ (code));
  }
  for (const img of fragment.querySelectorAll("img")) {
    linkInsteadOfImage(/** @type {HTMLImageElement} */ (img));
  }
  return fragment;
}

/**
 * A remote image in a model's Markdown becomes a link: the browser fetches nothing the model
 * chose (an image URL can carry data out) unless the user clicks.
 * @param {HTMLImageElement} img
 */
function linkInsteadOfImage(img) {
  const src = img.getAttribute("src") ?? "";
  if (src.startsWith("data:image/")) return;
  const link = document.createElement("a");
  link.href = src;
  link.target = "_blank";
  link.rel = "noopener noreferrer nofollow";
  link.textContent = `[image: ${img.getAttribute("alt") || src}]`;
  img.replaceWith(link);
}

/**
 * Highlight one code element in place (hljs output is escaped, so it stays safe).
 * @param {HTMLElement} code
 */
function highlight(code) {
  const match = /(?:^|\s)language-([\w+-]+)/.exec(code.className);
  const language = match ? match[1].toLowerCase() : "";
  code.dataset.lang = language;
  if (!language || !hljs.getLanguage(language)) return;
  const source = code.textContent ?? "";
  code.innerHTML = hljs.highlight(source, { language, ignoreIllegals: true }).value;
  code.classList.add("hljs");
}
