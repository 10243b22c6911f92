// Header: session title, session picker (switch / New / Fork) and model picker.
import { h } from "./dom.js";
import { ContextGauge } from "./usage.js";

/** @typedef {import("./types.js").SessionInfo} SessionInfo */
/** @typedef {import("./types.js").ModelInfo} ModelInfo */

/**
 * @typedef {{onSwitch: (id: string) => void, onNew: () => void, onFork: () => void,
 *   onModel: (id: string) => void, onCompact: () => void}} HeaderOptions
 */

export class Header {
  /** @param {HeaderOptions} options */
  constructor(options) {
    this.title = h("div", { class: "jo-title", role: "heading", "aria-level": "2" });
    this.sessions = /** @type {HTMLSelectElement} */ (
      h("select", { class: "jo-select jo-sessions", "aria-label": "Session", title: "Switch session" })
    );
    this.models = /** @type {HTMLSelectElement} */ (
      h("select", { class: "jo-select jo-models", "aria-label": "Model", title: "Model" })
    );
    this.context = new ContextGauge(options.onCompact);
    this.setSessions([], "", "");
    this.setModels([], "");
    this.el = h(
      "div",
      { class: "jo-header" },
      this.title,
      h(
        "div",
        { class: "jo-header-controls" },
        this.context.el,
        this.sessions,
        h("button", { type: "button", class: "jo-btn", text: "New", title: "Start a new session", onclick: options.onNew }),
        h("button", { type: "button", class: "jo-btn", text: "Fork", title: "Fork this session", onclick: options.onFork }),
        this.models,
      ),
    );
    this.sessions.addEventListener("change", () => options.onSwitch(this.sessions.value));
    this.models.addEventListener("change", () => options.onModel(this.models.value));
  }

  /** @param {string} title */
  setTitle(title) {
    this.title.textContent = title || "New chat";
    this.title.title = title || "";
  }

  /**
   * @param {SessionInfo[]} sessions
   * @param {string} currentId
   * @param {string} currentTitle
   */
  setSessions(sessions, currentId, currentTitle) {
    const list = [...(sessions ?? [])];
    if (currentId && !list.some((s) => s.id === currentId)) {
      list.unshift({ id: currentId, title: currentTitle || "New chat", message_count: 0 });
    }
    fillSelect(
      this.sessions,
      list.map((s) => [s.id, sessionLabel(s)]),
      currentId,
      "New chat",
    );
    this.sessions.disabled = list.length === 0;
  }

  /**
   * @param {ModelInfo[]} models
   * @param {string} current
   */
  setModels(models, current) {
    const list = [...(models ?? [])];
    if (current && !list.some((m) => m.id === current)) list.unshift({ id: current, name: current });
    fillSelect(
      this.models,
      list.map((m) => [m.id, m.name || m.id]),
      current,
      "Default model",
    );
    this.models.disabled = list.length === 0;
  }
}

/**
 * @param {SessionInfo} session
 * @returns {string}
 */
function sessionLabel(session) {
  const title = session.title || "Untitled";
  return session.message_count ? `${title} (${session.message_count})` : title;
}

/**
 * Replace a select's options and selection; an empty one shows what stands in for a choice.
 * @param {HTMLSelectElement} select
 * @param {[string, string][]} options
 * @param {string} value
 * @param {string} placeholder
 */
function fillSelect(select, options, value, placeholder) {
  const items = options.length ? options : [["", placeholder]];
  select.replaceChildren(...items.map(([id, label]) => h("option", { value: id, text: label })));
  select.value = options.length ? value : "";
}
