// The scrolling message list: lazy Markdown rendering, streaming, older-page loading.
import { undoNotebookChanges } from "./approval.js";
import { decorateCodeBlocks, handleCodeClick } from "./codeblocks.js";
import { h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { permissionPrompt, statusMarker, syncParts } from "./parts.js";

/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./types.js").Permission} Permission */
/** @typedef {import("./types.js").Part} Part */
/**
 * @typedef {{msg: Message, el: HTMLElement, parts: HTMLElement, body: HTMLElement,
 *   extra: HTMLElement, visible: boolean, dirty: boolean, rendered: boolean,
 *   permission?: Permission, answered?: string}} Entry
 * @typedef {{onPermission: (permissionId: string, reply: string) => void,
 *   onLoadOlder: (before: string) => void, eventRoot: HTMLElement}} ListOptions
 */

const LIVE = new Set(["pending", "streaming"]);
const STICK_PX = 40;
const TOP_PX = 120;
const PLACEHOLDER_CHARS = 3000;

export class MessageList {
  /** @param {ListOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {Map<string, Entry>} */
    this.entries = new Map();
    /** @type {WeakMap<Element, Entry>} */
    this.byElement = new WeakMap();
    /** @type {Set<Entry>} */
    this.pending = new Set();
    this.hasMore = false;
    this.loadingOlder = false;
    this.stick = true;
    this.frame = 0;
    this.olderTimer = 0;

    this.olderButton = h("button", {
      type: "button",
      class: "jo-older",
      text: "Load older messages",
      hidden: true,
      onclick: () => this.requestOlder(),
    });
    this.empty = h("div", { class: "jo-empty", text: "Ask opencode about this notebook. Type / for commands." });
    this.inner = h("div", { class: "jo-messages" });
    this.el = h(
      "div",
      { class: "jo-list", role: "log", "aria-label": "Conversation", tabindex: "0" },
      this.olderButton,
      this.empty,
      this.inner,
    );
    this.el.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.el.addEventListener("click", (ev) => handleCodeClick(ev, options.eventRoot));
    this.observer = new IntersectionObserver((records) => this.onIntersect(records), {
      root: this.el,
      rootMargin: "800px 0px",
    });
    // Keep the newest message in view while content grows (streaming, late layout), except
    // right after the user clicked inside the list (e.g. opened a tool block).
    this.clickedAt = 0;
    this.el.addEventListener("pointerdown", () => (this.clickedAt = performance.now()), { passive: true });
    this.resizer = new ResizeObserver(() => {
      if (this.stick && performance.now() - this.clickedAt > 500) this.el.scrollTop = this.el.scrollHeight;
    });
    this.resizer.observe(this.inner);
  }

  /**
   * Replace the whole conversation.
   * @param {Message[]} messages
   * @param {boolean} hasMore
   */
  reset(messages, hasMore) {
    this.observer.disconnect();
    this.entries.clear();
    this.pending.clear();
    this.inner.replaceChildren(...messages.map((m) => this.createEntry(m).el));
    this.setHasMore(hasMore);
    this.loadingOlder = false;
    clearTimeout(this.olderTimer);
    this.stick = true;
    this.scrollToBottom();
    this.maybeFillUp();
  }

  /**
   * Prepend an older page, keeping what the user sees in place.
   * @param {Message[]} messages
   * @param {boolean} hasMore
   */
  prepend(messages, hasMore) {
    const fresh = messages.filter((m) => !this.entries.has(m.id));
    const fromBottom = this.el.scrollHeight - this.el.scrollTop;
    this.inner.prepend(...fresh.map((m) => this.createEntry(m).el));
    this.el.scrollTop = this.el.scrollHeight - fromBottom;
    this.setHasMore(hasMore);
    this.loadingOlder = false;
    clearTimeout(this.olderTimer);
    this.maybeFillUp();
  }

  /**
   * Apply one coalesced frame of streaming operations.
   * @param {any[]} ops
   */
  applyOps(ops) {
    for (const op of ops) {
      if (op.op === "message") this.upsert(op.message);
      else if (op.op === "delta") this.appendDelta(op.id, op.kind, op.text ?? "");
      else if (op.op === "tool") this.upsertTool(op.id, op.tool);
      else if (op.op === "permission") {
        const entry = this.ensure(op.id);
        entry.permission = op.permission;
        entry.answered = undefined;
        this.markDirty(entry);
      }
    }
  }

  /** Remove observers and pending callbacks. */
  destroy() {
    this.observer.disconnect();
    this.resizer.disconnect();
    cancelAnimationFrame(this.frame);
    clearTimeout(this.olderTimer);
  }

  /** Scroll to the newest message and keep following it. */
  scrollToBottom() {
    this.stick = true;
    this.el.scrollTop = this.el.scrollHeight;
  }

  /** @param {boolean} hasMore */
  setHasMore(hasMore) {
    this.hasMore = Boolean(hasMore);
    this.olderButton.hidden = !this.hasMore;
    this.olderButton.textContent = "Load older messages";
    this.empty.hidden = this.entries.size > 0;
  }

  /** Ask the kernel for the page before the first message. */
  requestOlder() {
    const first = /** @type {HTMLElement | null} */ (this.inner.firstElementChild);
    if (!this.hasMore || this.loadingOlder || !first?.dataset.id) return;
    this.loadingOlder = true;
    this.olderButton.textContent = "Loading…";
    // Give up waiting after a while so a lost reply does not block paging forever.
    this.olderTimer = window.setTimeout(() => {
      this.loadingOlder = false;
      this.setHasMore(this.hasMore);
    }, 10000);
    this.options.onLoadOlder(first.dataset.id);
  }

  /** Load older pages while the list does not fill its box (no scrollbar to reach the top). */
  maybeFillUp() {
    const { clientHeight, scrollHeight } = this.el;
    if (clientHeight > 0 && scrollHeight <= clientHeight + TOP_PX) this.requestOlder();
  }

  onScroll() {
    const { scrollTop, scrollHeight, clientHeight } = this.el;
    this.stick = scrollHeight - scrollTop - clientHeight < STICK_PX;
    if (scrollTop < TOP_PX) this.requestOlder();
  }

  /** @param {IntersectionObserverEntry[]} records */
  onIntersect(records) {
    let changed = false;
    for (const record of records) {
      const entry = this.byElement.get(record.target);
      if (!entry) continue;
      entry.visible = record.isIntersecting;
      if (entry.visible && entry.dirty) {
        this.renderEntry(entry);
        changed = true;
      }
    }
    if (changed && this.stick) this.el.scrollTop = this.el.scrollHeight;
  }

  /**
   * @param {Message} message
   * @returns {Entry}
   */
  createEntry(message) {
    const msg = normalize(message);
    const parts = h("div", { class: "jo-parts" });
    const body = h("div", { class: msg.role === "user" ? "jo-body jo-plain" : "jo-body jo-md" });
    const extra = h("div", { class: "jo-extra" });
    const el = h("div", { class: "jo-msg", "data-id": msg.id }, h("div", { class: "jo-bubble" }, parts, body, extra));
    /** @type {Entry} */
    const entry = { msg, el, parts, body, extra, visible: false, dirty: true, rendered: false };
    this.entries.set(msg.id, entry);
    this.byElement.set(el, entry);
    this.updateClasses(entry);
    this.placeholder(entry);
    this.observer.observe(el);
    this.empty.hidden = true;
    return entry;
  }

  /**
   * Cheap stand-in until the entry is near the viewport: plain text, so heights are close.
   * @param {Entry} entry
   */
  placeholder(entry) {
    entry.body.textContent = entry.msg.content.slice(0, PLACEHOLDER_CHARS);
  }

  /** @param {Entry} entry */
  updateClasses(entry) {
    const { msg } = entry;
    entry.el.className = `jo-msg jo-${msg.role === "user" ? "user" : "assistant"} jo-status-${msg.status}`;
    entry.el.classList.toggle("jo-live", LIVE.has(msg.status));
  }

  /** @param {Entry} entry */
  renderEntry(entry) {
    const { msg } = entry;
    entry.dirty = false;
    entry.rendered = true;
    this.pending.delete(entry);
    this.updateClasses(entry);
    syncParts(entry.parts, msg.parts ?? []);
    const live = LIVE.has(msg.status);
    if (msg.role === "user") {
      entry.body.textContent = msg.content;
    } else {
      const fragment = renderMarkdown(msg.content);
      if (live) appendCursor(fragment);
      decorateCodeBlocks(fragment);
      entry.body.replaceChildren(fragment);
    }
    entry.extra.replaceChildren(...this.extras(entry, live));
  }

  /**
   * Context list, permission prompt and status marker of a message.
   * @param {Entry} entry
   * @param {boolean} live
   * @returns {HTMLElement[]}
   */
  extras(entry, live) {
    const out = [];
    const context = entry.msg.context ?? [];
    if (context.length) {
      out.push(
        h(
          "div",
          { class: "jo-msg-context" },
          ...context.map((c) => h("span", { class: "jo-msg-ctx", title: c.kind, text: c.label })),
        ),
      );
    }
    const permission = entry.permission;
    if (permission && (live || entry.answered)) {
      out.push(
        permissionPrompt(permission, entry.answered, (reply) => {
          entry.answered = reply;
          this.options.onPermission(permission.id, reply);
          this.renderEntry(entry);
        }),
      );
    }
    const marker = statusMarker(entry.msg);
    if (marker) out.push(marker);
    const undo = undoNotebookChanges(entry.msg, live);
    if (undo) out.push(undo);
    return out;
  }

  /** @param {Entry} entry */
  markDirty(entry) {
    entry.dirty = true;
    this.pending.add(entry);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** Render what changed since the last animation frame (visible entries only). */
  flush() {
    this.frame = 0;
    for (const entry of this.pending) {
      if (entry.visible || !entry.rendered) {
        // Not yet observed entries are new, usually at the bottom: render them right away.
        this.renderEntry(entry);
      } else {
        this.updateClasses(entry);
        this.placeholder(entry);
        this.pending.delete(entry);
      }
    }
    if (this.stick) this.el.scrollTop = this.el.scrollHeight;
  }

  /** @param {Message} message */
  upsert(message) {
    const existing = this.entries.get(message.id);
    if (!existing) {
      const entry = this.createEntry(message);
      this.insertInOrder(entry);
      this.markDirty(entry);
      return;
    }
    // A final message without content keeps the text its deltas built (it is not sent twice).
    const content = "content" in message ? message.content : existing.msg.content;
    existing.msg = normalize({ ...message, content });
    if (!LIVE.has(existing.msg.status) && !existing.answered) existing.permission = undefined;
    this.markDirty(existing);
  }

  /**
   * Insert a new entry after the last message that is not newer than it.
   * @param {Entry} entry
   */
  insertInOrder(entry) {
    const at = entry.msg.created_at;
    let before = null;
    if (typeof at === "number") {
      for (let node = this.inner.lastElementChild; node; node = node.previousElementSibling) {
        const other = this.byElement.get(node);
        const time = other?.msg.created_at;
        if (typeof time !== "number" || time <= at) break;
        before = node;
      }
    }
    this.inner.insertBefore(entry.el, before);
  }

  /**
   * The entry for a message id, creating a streaming assistant placeholder if unknown.
   * @param {string} id
   * @returns {Entry}
   */
  ensure(id) {
    const existing = this.entries.get(id);
    if (existing) return existing;
    const entry = this.createEntry({ id, role: "assistant", status: "streaming", content: "", parts: [] });
    this.inner.append(entry.el);
    return entry;
  }

  /**
   * @param {string} id
   * @param {string} kind
   * @param {string} text
   */
  appendDelta(id, kind, text) {
    const entry = this.ensure(id);
    const { msg } = entry;
    if (kind === "reasoning") {
      const parts = /** @type {Part[]} */ (msg.parts);
      const last = parts[parts.length - 1];
      if (last?.kind === "reasoning") last.text += text;
      else parts.push({ kind: "reasoning", text });
    } else {
      msg.content += text;
    }
    if (!LIVE.has(msg.status)) msg.status = "streaming";
    this.markDirty(entry);
  }

  /**
   * @param {string} id
   * @param {any} tool
   */
  upsertTool(id, tool) {
    const entry = this.ensure(id);
    const parts = /** @type {Part[]} */ (entry.msg.parts);
    const index = parts.findIndex((p) => p.kind === "tool" && p.call_id === tool.call_id);
    if (index >= 0) parts[index] = { ...parts[index], ...tool, kind: "tool" };
    else parts.push({ ...tool, kind: "tool" });
    this.markDirty(entry);
  }
}

/**
 * A private copy of a message with the fields the list relies on.
 * @param {Message} message
 * @returns {Message}
 */
function normalize(message) {
  return {
    ...message,
    content: message.content ?? "",
    parts: (message.parts ?? []).map((p) => ({ ...p })),
    status: message.status || "complete",
  };
}

/**
 * Put the blinking cursor at the end of the last text-bearing element.
 * @param {DocumentFragment} fragment
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
  node.append(h("span", { class: "jo-cursor", "aria-hidden": "true" }));
}
