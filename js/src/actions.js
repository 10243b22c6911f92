// Per-message actions (edit and resend, rewind, rate and note) and /search results.
// Works beside any message renderer and any host: it relies on `.jo-msg[data-id]` elements in
// the list, learns which messages exist from the host (the same messages and ops the renderer
// gets), and asks the host to act (the panel: its kernel; a JupyterLab tab: the REST API).
import "./actions.css";
import { h } from "./dom.js";
import { highlight } from "./snippet.js";

/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./protocol.js").Op} Op */
/** @typedef {{rating: "up" | "down" | null, note: string}} Annotation */
/** @typedef {{id: string, role: string, status: string, content: string, annotation: Annotation | null}} Known */
/**
 * @typedef {{session_id: string, message_id: string | null, kind: string, title: string,
 *   role: string | null, created_at: number, snippet: string, highlights: [number, number][]}} Hit
 */
/**
 * What the host does when the user acts on a message; failures are the host's to show.
 * @typedef {{
 *   edit: (messageId: string, text: string) => void,
 *   rewind: (messageId: string) => void,
 *   annotate: (messageId: string, rating: "up" | "down" | null, note: string) => void,
 *   open: (sessionId: string, messageId: string | null) => void,
 * }} ActionRequests
 */

const LIVE = new Set(["pending", "streaming"]);
const CONFIRM_MS = 4000;

export class MessageActions {
  /**
   * @param {{root: HTMLElement, list: HTMLElement, requests: ActionRequests}} options
   */
  constructor({ root, list, requests }) {
    this.root = root;
    this.list = list;
    this.requests = requests;
    /** @type {Map<string, Known>} */
    this.known = new Map();
    /** @type {string[]} */
    this.order = [];
    /** @type {HTMLElement | null} */
    this.current = null;
    this.confirmTimer = 0;
    this.bar = h("div", { class: "jo-actions", role: "toolbar", "aria-label": "Message actions" });
    this.results = h("div", { class: "jo-search", hidden: true });
    root.insertBefore(this.results, list);
    this.onOver = (/** @type {Event} */ ev) => {
      const target = /** @type {Element} */ (ev.target);
      if (this.bar.contains(target)) return;
      const el = /** @type {HTMLElement | null} */ (target.closest?.(".jo-msg[data-id]"));
      if (el && el !== this.current) this.showBar(el);
    };
    this.onLeave = () => this.hideBar();
    list.addEventListener("pointerover", this.onOver);
    list.addEventListener("focusin", this.onOver);
    list.addEventListener("pointerleave", this.onLeave);
    // Renderers may rebuild message elements: decorate every one that (re)appears.
    this.observer = new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node instanceof HTMLElement && node.matches(".jo-msg[data-id]")) this.decorate(node);
        }
      }
    });
    this.observer.observe(list, { childList: true, subtree: true });
  }

  /**
   * The conversation now holds exactly these messages (oldest first).
   * @param {Message[]} messages
   */
  reset(messages) {
    this.known.clear();
    this.order = [];
    this.hideBar();
    for (const m of messages) this.remember(m);
    this.redecorate();
  }

  /**
   * Older messages, loaded before the first one.
   * @param {Message[]} messages
   */
  prepend(messages) {
    const older = messages.filter((m) => !this.known.has(m.id));
    for (const m of older) this.remember(m, false);
    this.order = [...older.map((m) => m.id), ...this.order];
    this.redecorate();
  }

  /**
   * The renderer's ops: new and updated messages, streamed text.
   * @param {Op[]} ops
   */
  applyOps(ops) {
    let changed = false;
    for (const op of ops) {
      if (op.op === "message") {
        this.remember(op.message);
        changed = true;
      } else if (op.op === "delta" && op.kind === "text") {
        const known = this.known.get(op.id);
        if (known) known.content += op.text;
      }
    }
    // Streamed text alone changes no footer.
    if (changed) this.redecorate();
  }

  /**
   * A message's rating and note as stored.
   * @param {string} messageId
   * @param {Annotation | null} annotation
   */
  setAnnotation(messageId, annotation) {
    const known = this.known.get(messageId);
    if (!known) return;
    known.annotation = annotation;
    this.redecorate();
    // The bar shows the rating too (e.g. a failed save put the stored one back).
    if (this.current?.dataset.id === messageId) this.showBar(this.current);
  }

  /** Decorate after the renderer has applied the same change. */
  redecorate() {
    queueMicrotask(() => this.decorateAll());
  }

  /**
   * @param {any} message
   * @param {boolean} [append]
   */
  remember(message, append = true) {
    const old = this.known.get(message.id);
    if (!old && append) this.order.push(message.id);
    this.known.set(message.id, {
      id: message.id,
      role: message.role ?? old?.role ?? "assistant",
      status: message.status ?? old?.status ?? "complete",
      content: "content" in message ? message.content ?? "" : old?.content ?? "",
      annotation: "annotation" in message ? message.annotation ?? null : old?.annotation ?? null,
    });
  }

  decorateAll() {
    for (const el of this.list.querySelectorAll(".jo-msg[data-id]")) this.decorate(/** @type {HTMLElement} */ (el));
  }

  /**
   * Give a finished message its footer: rating and note, and room for the actions.
   * @param {HTMLElement} el
   */
  decorate(el) {
    const known = this.known.get(el.dataset.id ?? "");
    let foot = /** @type {HTMLElement | null} */ (el.querySelector(":scope > .jo-foot"));
    if (!known || LIVE.has(known.status)) {
      foot?.remove();
      return;
    }
    if (!foot) {
      foot = h("div", { class: "jo-foot" });
      el.append(foot);
    }
    const annotation = known.annotation;
    let badge = /** @type {HTMLElement | null} */ (foot.querySelector(":scope > .jo-annot"));
    if (!annotation || (!annotation.rating && !annotation.note)) {
      badge?.remove();
      return;
    }
    if (!badge) {
      badge = h("div", { class: "jo-annot" });
      foot.prepend(badge);
    }
    const icon = annotation.rating === "up" ? "▲ good" : annotation.rating === "down" ? "▼ bad" : "✎";
    badge.replaceChildren(
      h("span", { class: `jo-annot-icon jo-annot-${annotation.rating ?? "note"}`, text: icon }),
      annotation.note ? h("span", { class: "jo-annot-note", text: annotation.note }) : "",
    );
  }

  /** @param {HTMLElement} el */
  showBar(el) {
    const known = this.known.get(el.dataset.id ?? "");
    const foot = el.querySelector(":scope > .jo-foot");
    if (!known || !foot || LIVE.has(known.status) || el.querySelector(":scope > .jo-editor")) {
      this.hideBar();
      return;
    }
    this.current = el;
    const rating = known.annotation?.rating ?? null;
    const button = (/** @type {string} */ label, /** @type {string} */ text, /** @type {() => void} */ onclick, pressed = false) =>
      h("button", {
        type: "button",
        class: `jo-action${pressed ? " jo-pressed" : ""}`,
        title: label,
        "aria-label": label,
        "aria-pressed": pressed ? "true" : undefined,
        text,
        onclick: (/** @type {Event} */ ev) => {
          ev.stopPropagation();
          onclick();
        },
      });
    const next = this.order[this.order.indexOf(known.id) + 1];
    const buttons = [
      button("Good answer", "▲", () => this.rate(known, rating === "up" ? null : "up"), rating === "up"),
      button("Bad answer", "▼", () => this.rate(known, rating === "down" ? null : "down"), rating === "down"),
      button("Note", "✎ Note", () => this.openEditor(el, known, "note")),
    ];
    if (known.role === "user") {
      buttons.unshift(button("Edit and resend", "✎ Edit", () => this.openEditor(el, known, "edit")));
    }
    // A user message goes with its answer; after an answer, rewinding keeps it.
    const rewindFrom = known.role === "user" ? known.id : next;
    if (rewindFrom) {
      const label =
        known.role === "user" ? "Rewind: take back this message and what follows" : "Rewind to here: remove what follows";
      const rewind = button(label, "↺ Rewind", () => {
        if (rewind.dataset.confirm) {
          this.requests.rewind(rewindFrom);
          this.hideBar();
          return;
        }
        rewind.dataset.confirm = "1";
        rewind.textContent = "Remove what follows?";
        rewind.classList.add("jo-danger");
        clearTimeout(this.confirmTimer);
        this.confirmTimer = window.setTimeout(() => this.current === el && this.showBar(el), CONFIRM_MS);
      });
      buttons.push(rewind);
    }
    this.bar.replaceChildren(...buttons);
    foot.append(this.bar);
  }

  hideBar() {
    clearTimeout(this.confirmTimer);
    this.bar.remove();
    this.current = null;
  }

  /**
   * @param {Known} known
   * @param {"up" | "down" | null} rating
   */
  rate(known, rating) {
    const note = known.annotation?.note ?? "";
    known.annotation = { rating, note };
    this.requests.annotate(known.id, rating, note);
    this.decorateAll();
    if (this.current) this.showBar(this.current);
  }

  /**
   * An inline editor under the message: the edited prompt, or the note.
   * @param {HTMLElement} el
   * @param {Known} known
   * @param {"edit" | "note"} mode
   */
  openEditor(el, known, mode) {
    this.hideBar();
    el.querySelector(":scope > .jo-editor")?.remove();
    const text = /** @type {HTMLTextAreaElement} */ (
      h("textarea", {
        class: "jo-editor-text",
        rows: "3",
        maxlength: mode === "note" ? "10000" : undefined,
        "aria-label": mode === "edit" ? "Edited message" : "Note",
        placeholder: mode === "note" ? "A note on this message (searchable)" : "",
      })
    );
    text.value = mode === "edit" ? known.content : known.annotation?.note ?? "";
    const close = () => editor.remove();
    const save = () => {
      if (mode === "edit") {
        if (!text.value.trim()) return;
        this.requests.edit(known.id, text.value);
      } else {
        const rating = known.annotation?.rating ?? null;
        known.annotation = { rating, note: text.value };
        this.requests.annotate(known.id, rating, text.value);
        this.decorateAll();
      }
      close();
    };
    text.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") close();
      else if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey || (mode === "edit" && !ev.shiftKey))) {
        ev.preventDefault();
        save();
      }
    });
    const editor = h(
      "div",
      { class: "jo-editor" },
      text,
      h(
        "div",
        { class: "jo-editor-buttons" },
        h("button", { type: "button", class: "jo-editor-cancel", text: "Cancel", onclick: close }),
        h("button", {
          type: "button",
          class: "jo-editor-save",
          text: mode === "edit" ? "Send as a new branch" : "Save note",
          onclick: save,
        }),
      ),
    );
    el.append(editor);
    text.focus();
  }

  /**
   * Search hits as buttons that open their session.
   * @param {string} query
   * @param {Hit[]} hits
   */
  showResults(query, hits) {
    const items = hits.map((hit) =>
      h(
        "li",
        null,
        h(
          "button",
          {
            type: "button",
            class: "jo-result",
            onclick: () => {
              this.results.hidden = true;
              this.requests.open(hit.session_id, hit.message_id);
            },
          },
          h("span", { class: "jo-hit-title", text: hit.title || hit.session_id }),
          h("span", { class: "jo-hit-snippet" }, ...highlight(hit.snippet, hit.highlights)),
        ),
      ),
    );
    this.results.replaceChildren(
      h(
        "div",
        { class: "jo-search-head" },
        h("span", { text: hits.length ? `Results for “${query}”` : `No results for “${query}”` }),
        h("button", {
          type: "button",
          class: "jo-dismiss",
          "aria-label": "Close the results",
          text: "×",
          onclick: () => (this.results.hidden = true),
        }),
      ),
      h("ul", { class: "jo-hits" }, ...items),
    );
    this.results.hidden = false;
  }

  destroy() {
    clearTimeout(this.confirmTimer);
    this.observer.disconnect();
    this.list.removeEventListener("pointerover", this.onOver);
    this.list.removeEventListener("focusin", this.onOver);
    this.list.removeEventListener("pointerleave", this.onLeave);
    this.bar.remove();
    this.results.remove();
  }
}
