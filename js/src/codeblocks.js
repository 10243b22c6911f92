// Code-block toolbars (Copy, Insert as cell, Run).
import { h } from "./dom.js";

/**
 * Event asking the host of a view (notebook panel or JupyterLab tab) to insert a code block.
 * Dispatched on the view's root only (it does not bubble): the host listens there.
 */
export const INSERT_EVENT = "jupyter-opencode:insert-cell";
/** Attribute of `document.body` saying the labextension inserts cells asked for by kernels. */
export const BRIDGE_ATTRIBUTE = "data-jupyter-opencode-insert";
export const NO_BRIDGE_NOTE = "Copied to clipboard: no notebook bridge in this frontend";

/**
 * What a host gets in the insert event's detail; it sets `handled` (and may set `note`).
 * @typedef {{code: string, run: boolean, message_id: string, block: number,
 *   handled: boolean, note?: string}} InsertDetail
 */

/**
 * Wrap every `pre > code` under `root` in a block with a toolbar.
 * @param {ParentNode} root
 */
export function decorateCodeBlocks(root) {
  for (const pre of root.querySelectorAll("pre")) {
    const code = pre.querySelector(":scope > code");
    if (!code || pre.parentElement?.classList.contains("jo-code")) continue;
    const lang = /** @type {HTMLElement} */ (code).dataset.lang ?? "";
    const wrapper = h("div", { class: "jo-code" });
    pre.replaceWith(wrapper);
    const toolbar = h(
      "div",
      { class: "jo-code-bar" },
      h("span", { class: "jo-code-lang", text: lang }),
      h("button", { type: "button", class: "jo-code-btn", "data-act": "copy", text: "Copy" }),
      h("button", { type: "button", class: "jo-code-btn", "data-act": "insert", text: "Insert as cell" }),
      h("button", { type: "button", class: "jo-code-btn", "data-act": "run", text: "Run" }),
    );
    wrapper.append(toolbar, pre, h("div", { class: "jo-code-note", role: "status" }));
  }
}

/**
 * Copy text to the clipboard; falls back to a hidden textarea + execCommand.
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function copyText(text) {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Permission denied or insecure context: the execCommand path below still works there.
  }
  const area = h("textarea", {
    "aria-hidden": "true",
    readonly: true,
    style: "position:fixed;top:-1000px;left:-1000px;opacity:0",
  });
  /** @type {HTMLTextAreaElement} */ (area).value = text;
  document.body.append(area);
  /** @type {HTMLTextAreaElement} */ (area).select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/**
 * Handle a click on a code-block button; returns true when the click was one.
 * @param {MouseEvent} event
 * @param {HTMLElement} root the view's root, where its host listens for the insert event
 * @returns {boolean}
 */
export function handleCodeClick(event, root) {
  const button = /** @type {HTMLElement | null} */ (
    /** @type {HTMLElement} */ (event.target).closest?.(".jo-code-btn")
  );
  const block = button?.closest(".jo-code");
  if (!button || !block) return false;
  // Markdown code blocks end with a newline; a notebook cell should not.
  const code = (block.querySelector("pre > code")?.textContent ?? "").replace(/\n$/, "");
  const note = /** @type {HTMLElement} */ (block.querySelector(".jo-code-note"));
  const action = button.dataset.act;
  if (action === "copy") {
    copyText(code).then((ok) => flash(button, ok ? "Copied" : "Copy failed", "Copy"));
    return true;
  }
  const message = block.closest(".jo-msg");
  /** @type {InsertDetail} */
  const detail = {
    code,
    run: action === "run",
    message_id: /** @type {HTMLElement | null} */ (message)?.dataset.id ?? "",
    block: message ? [...message.querySelectorAll(".jo-body .jo-code")].indexOf(block) : -1,
    handled: false,
  };
  root.dispatchEvent(new CustomEvent(INSERT_EVENT, { detail }));
  if (detail.handled) {
    showNote(note, detail.note ?? insertedText(detail.run));
  } else {
    copyText(code).then((ok) =>
      showNote(note, ok ? NO_BRIDGE_NOTE : "No notebook bridge in this frontend and copy failed"),
    );
  }
  return true;
}

/** @param {boolean} run */
function insertedText(run) {
  return run ? "Inserted below and running" : "Inserted below";
}

/**
 * Say under a code block that the notebook got it (the kernel's answer to an insert).
 * @param {HTMLElement} root
 * @param {string} messageId
 * @param {number} index
 * @param {boolean} run
 */
export function showInserted(root, messageId, index, run) {
  const message = [...root.querySelectorAll(".jo-msg")].find(
    (el) => /** @type {HTMLElement} */ (el).dataset.id === messageId,
  );
  const note = message?.querySelectorAll(".jo-body .jo-code")[index]?.querySelector(".jo-code-note");
  if (note) showNote(/** @type {HTMLElement} */ (note), insertedText(run));
}

/** @type {WeakMap<HTMLElement, number>} */
const timers = new WeakMap();

/**
 * Briefly replace a button's text.
 * @param {HTMLElement} button
 * @param {string} text
 * @param {string} restore
 */
function flash(button, text, restore) {
  button.textContent = text;
  clearTimeout(timers.get(button));
  timers.set(button, window.setTimeout(() => (button.textContent = restore), 1500));
}

/**
 * Show a note under a code block for a few seconds.
 * @param {HTMLElement} note
 * @param {string} text
 */
function showNote(note, text) {
  note.textContent = text;
  note.classList.add("jo-visible");
  clearTimeout(timers.get(note));
  timers.set(
    note,
    window.setTimeout(() => {
      note.textContent = "";
      note.classList.remove("jo-visible");
    }, 6000),
  );
}
