// Prompts sent while the agent answers: shown as "Queued" (each can be removed) and sent, in
// order, once the answer ends.
import { h } from "./dom.js";

/** @typedef {{text: string, sessionId: string}} QueuedPrompt */

export class PromptQueue {
  constructor() {
    /** @type {QueuedPrompt[]} */
    this.items = [];
    this.el = h("div", { class: "jo-queue", role: "list", "aria-label": "Queued prompts", hidden: true });
  }

  /**
   * Queue a prompt of a session.
   * @param {string} text
   * @param {string} sessionId
   */
  add(text, sessionId) {
    this.items.push({ text, sessionId });
    this.render();
  }

  /**
   * The next prompt queued for this session (those of other sessions are dropped), or null.
   * @param {string} sessionId
   * @returns {string | null}
   */
  next(sessionId) {
    this.items = this.items.filter((item) => item.sessionId === sessionId);
    const item = this.items.shift();
    this.render();
    return item ? item.text : null;
  }

  render() {
    this.el.hidden = !this.items.length;
    this.el.replaceChildren(
      ...this.items.map((item) =>
        h(
          "div",
          { class: "jo-queued", role: "listitem" },
          h("span", { class: "jo-queued-label", text: "Queued" }),
          h("span", { class: "jo-queued-text", text: item.text }),
          h("button", {
            type: "button",
            class: "jo-btn jo-queued-remove",
            text: "×",
            title: "Remove from the queue",
            "aria-label": "Remove queued prompt",
            onclick: () => {
              this.items = this.items.filter((other) => other !== item);
              this.render();
            },
          }),
        ),
      ),
    );
  }
}
