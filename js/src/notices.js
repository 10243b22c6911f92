// Transient notices from the kernel: info toasts fade out, errors stay until dismissed.
import { h } from "./dom.js";

const INFO_MS = 5000;
const INFO_MAX_MS = 20000;
const MAX_ERRORS = 3;

export class Notices {
  constructor() {
    /** @type {Set<number>} */
    this.timers = new Set();
    this.errors = h("div", { class: "jo-errors", role: "alert" });
    this.info = h("div", { class: "jo-info", role: "status", "aria-live": "polite" });
    this.offers = h("div", { class: "jo-offers" });
    this.el = h("div", { class: "jo-notices" }, this.errors, this.offers, this.info);
  }

  /**
   * @param {string} level "info" or "error"
   * @param {string} text
   */
  show(level, text) {
    if (!text) return;
    if (level === "error") {
      this.errors.append(dismissable("jo-error", text));
      while (this.errors.children.length > MAX_ERRORS) this.errors.firstElementChild?.remove();
      return;
    }
    const item = h("div", { class: "jo-info-item", title: "Click to dismiss", text, onclick: () => item.remove() });
    this.info.append(item);
    // Longer texts (e.g. /help) stay up longer.
    const timer = window.setTimeout(() => {
      item.remove();
      this.timers.delete(timer);
    }, Math.min(INFO_MAX_MS, INFO_MS + text.length * 50));
    this.timers.add(timer);
  }

  /**
   * A notice with something to do about it (e.g. an undo button); it stays until dismissed.
   * @param {string} text
   * @param {HTMLElement} control
   */
  offer(text, control) {
    this.offers.append(dismissable("jo-offer", text, control));
  }

  /** Drop error notices (the user acted again). */
  clearErrors() {
    this.errors.replaceChildren();
  }

  destroy() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * A notice line with its text, an optional control, and a button that removes it.
 * @param {string} kind CSS class of the line; its text gets `${kind}-text`
 * @param {string} text
 * @param {HTMLElement} [control]
 * @returns {HTMLElement}
 */
function dismissable(kind, text, control) {
  const item = h(
    "div",
    { class: kind },
    h("span", { class: `${kind}-text`, text }),
    control ?? "",
    h("button", { type: "button", class: "jo-dismiss", "aria-label": "Dismiss", text: "×", onclick: () => item.remove() }),
  );
  return item;
}
