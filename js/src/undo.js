// "Undo ... changes" buttons under an answer or after a rewind: the labextension does the undo
// (it answers a DOM event with the server's reply), and the note says what it did.
import { h } from "./dom.js";

/**
 * One kind of undo: the button's text, the event the labextension answers, the words for what
 * the undo did.
 * @template R
 * @typedef {{text: string, event: string, summary: (done: R[]) => string}} UndoKind
 */

/** @type {Map<string, string>} what undoing each answer said, kept across re-renders */
const undone = new Map();

/**
 * A button undoing these answers' changes of one kind, with a note saying what the undo did.
 * @template R
 * @param {UndoKind<R>} kind
 * @param {string | undefined} sessionId
 * @param {string[]} messageIds
 * @returns {HTMLElement}
 */
export function undoOffer(kind, sessionId, messageIds) {
  const note = h("span", { class: "jo-nbundo-note", role: "status" });
  const keys = messageIds.map((id) => `${kind.event} ${id}`);
  const said = keys.map((key) => undone.get(key)).filter(Boolean);
  if (said.length === keys.length) {
    note.textContent = said.join(" ");
    return h("div", { class: "jo-nbundo" }, note);
  }
  const button = h("button", {
    type: "button",
    class: "jo-btn",
    text: kind.text,
    onclick: async () => {
      const results = [];
      for (const id of messageIds) {
        /** @type {{session_id?: string, message_id: string, result: Promise<R> | null}} */
        const detail = { session_id: sessionId, message_id: id, result: null };
        button.dispatchEvent(new CustomEvent(kind.event, { bubbles: true, composed: true, detail }));
        if (!detail.result) {
          note.textContent = "Undo works in JupyterLab with the jupyter-opencode extension.";
          return;
        }
        results.push(detail.result);
      }
      button.setAttribute("disabled", "");
      try {
        const text = kind.summary(await Promise.all(results));
        for (const key of keys) undone.set(key, text);
        button.remove();
        note.textContent = text;
      } catch (error) {
        button.removeAttribute("disabled");
        note.textContent = `Undo failed: ${error instanceof Error ? error.message : error}`;
      }
    },
  });
  return h("div", { class: "jo-nbundo" }, button, note);
}
