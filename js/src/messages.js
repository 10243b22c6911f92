// The scrolling message list. Only messages near the viewport are in the DOM (the rest are
// spacer height); a streaming answer is rendered incrementally, once per animation frame.
import { undoNotebookChanges } from "./approval.js";
import { IMAGE_TYPES } from "./attachments.js";
import { filesChanged } from "./filechanges.js";
import { handleCodeClick } from "./codeblocks.js";
import { h, humanSize } from "./dom.js";
import { MarkdownBody } from "./livemarkdown.js";
import { permissionPrompt, statusMarker, syncParts } from "./parts.js";
import { setPlan } from "./plan.js";
import { TextPacer } from "./pacer.js";

/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./types.js").Permission} Permission */
/** @typedef {import("./types.js").Part} Part */
/** @typedef {import("./protocol.js").Op} Op */
/**
 * A message and, while it is mounted, its elements.
 * @typedef {{msg: Message, height: number, full: boolean, el: HTMLElement | null,
 *   parts: HTMLElement | null, body: HTMLElement | null, markdown: MarkdownBody | null,
 *   extra: HTMLElement | null, added: string | null, permission?: Permission,
 *   answered?: string}} Entry
 * (`added`: the text streamed onto `msg.content` since it was last shown; null: unknown.)
 * @typedef {{onPermission: (permissionId: string, reply: string) => void,
 *   onAnswer?: import("./questions.js").OnAnswer,
 *   onLoadOlder: (before: string) => void, eventRoot: HTMLElement,
 *   onCadence?: (ms: number) => void}} ListOptions
 * (`onCadence`: the ms between two frames that may show streamed text, when it changes: the
 * host asks for the text no more often.)
 */

const LIVE = new Set(["pending", "streaming"]);
const STICK_PX = 40;
const TOP_PX = 120;
/** Messages this far outside the viewport stay mounted (smooth scrolling). */
const OVERSCAN_PX = 800;
const LINE_PX = 19;
const CHARS_PER_LINE = 90;
/** Message heights that changed settle the mounted range this much later (not urgent). */
const RELAYOUT_MS = 250;
/** The cadence is told again once the pacer's moved this many ms from it (each telling costs
 * the panel a message to its kernel). */
const CADENCE_STEP_MS = 20;

export class MessageList {
  /** @param {ListOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {Entry[]} */
    this.entries = [];
    /** @type {Map<string, Entry>} */
    this.byId = new Map();
    /** @type {WeakMap<Element, Entry>} */
    this.byElement = new WeakMap();
    /** @type {Set<Entry>} */
    this.mounted = new Set();
    /** @type {Set<Entry>} */
    this.pending = new Set();
    this.hasMore = false;
    this.loadingOlder = false;
    this.stick = true;
    /** @type {string | null} the revealed message (a search hit), marked whenever it is mounted */
    this.hitId = null;
    this.frame = 0;
    this.waiting = 0;
    /** How often streamed text may show (a fast stream then costs a bounded share of frames). */
    this.pacer = new TextPacer();
    /** The cadence last told (ms; 0: none yet). */
    this.cadence = 0;
    this.relayoutTimer = 0;
    /** The scrollTop we set to follow the newest message: its scroll event needs no frame. */
    this.autoScrolled = -1;
    this.olderTimer = 0;
    /** @type {{entry: Entry, at: number} | null} the message an older page must not move */
    this.anchor = null;
    /** Scroll position and viewport height, cached so a frame never forces a layout. */
    this.scrollTop = 0;
    this.viewport = 0;
    this.innerOffset = 0;
    /** Spacer heights as last written. */
    this.above = 0;
    this.below = 0;

    this.olderButton = h("button", {
      type: "button",
      class: "jo-older",
      text: "Load older messages",
      hidden: true,
      onclick: () => this.requestOlder(),
    });
    this.empty = h("div", { class: "jo-empty", text: "Ask opencode about this notebook. Type / for commands." });
    this.top = h("div", { class: "jo-spacer", "aria-hidden": "true" });
    this.bottom = h("div", { class: "jo-spacer", "aria-hidden": "true" });
    this.inner = h("div", { class: "jo-messages" }, this.top, this.bottom);
    this.el = h(
      "div",
      { class: "jo-list", role: "log", "aria-label": "Conversation", tabindex: "0" },
      this.olderButton,
      this.empty,
      this.inner,
    );
    this.el.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.el.addEventListener("click", (ev) => handleCodeClick(ev, options.eventRoot));
    // Keep the newest message in view while content grows, except right after the user
    // clicked inside the list (e.g. opened a tool block).
    this.clickedAt = -Infinity;
    this.el.addEventListener("pointerdown", () => (this.clickedAt = performance.now()), { passive: true });
    this.resizer = new ResizeObserver((records) => this.onResize(records));
    this.resizer.observe(this.el);
    // Spacers resized by a layout change the scroll height too: follow the newest message.
    this.resizer.observe(this.top);
    this.resizer.observe(this.bottom);
  }

  /**
   * Replace the whole conversation.
   * @param {Message[]} messages
   * @param {boolean} hasMore
   */
  reset(messages, hasMore) {
    for (const entry of this.mounted) this.unmount(entry);
    this.entries = messages.map((m) => this.createEntry(m));
    this.byId = new Map(this.entries.map((e) => [e.msg.id, e]));
    this.pending.clear();
    this.setHasMore(hasMore);
    this.loadingOlder = false;
    clearTimeout(this.olderTimer);
    this.scrollToBottom();
    this.maybeFillUp();
  }

  /**
   * Prepend an older page, keeping what the user sees in place.
   * @param {Message[]} messages
   * @param {boolean} hasMore
   */
  prepend(messages, hasMore) {
    const fresh = messages.filter((m) => !this.byId.has(m.id)).map((m) => this.createEntry(m));
    const listTop = this.el.getBoundingClientRect().top;
    const anchor = this.entries.find((e) => e.el && e.el.getBoundingClientRect().bottom > listTop);
    const anchorAt = anchor?.el ? anchor.el.getBoundingClientRect().top - listTop : 0;
    for (const entry of fresh) this.byId.set(entry.msg.id, entry);
    this.entries.unshift(...fresh);
    this.setHasMore(hasMore);
    this.loadingOlder = false;
    clearTimeout(this.olderTimer);
    if (anchor && !this.stick) {
      this.scrollTop = this.inner.offsetTop + this.offsetOf(anchor) - anchorAt;
      this.layout();
      this.el.scrollTop = this.scrollTop;
      // The offset came from estimated heights; the mounted messages above have real ones.
      this.holdAnchor(anchor, anchorAt);
      // What decorates the new messages later (e.g. footers) moves them again: hold it once more.
      this.anchor = { entry: anchor, at: anchorAt };
    } else {
      this.layout();
    }
    this.maybeFillUp();
  }

  /**
   * Scroll so that a message's top is `at` pixels below the list's top again.
   * @param {Entry} entry
   * @param {number} at
   */
  holdAnchor(entry, at) {
    if (!entry.el) return;
    const drift = entry.el.getBoundingClientRect().top - this.el.getBoundingClientRect().top - at;
    if (Math.abs(drift) < 0.5) return;
    this.el.scrollTop += drift;
    this.scrollTop = this.el.scrollTop;
  }

  /**
   * Apply one coalesced frame of streaming operations.
   * @param {Op[]} ops
   */
  applyOps(ops) {
    for (const op of ops) {
      if (op.op === "message") this.upsert(/** @type {Message} */ (op.message));
      else if (op.op === "delta") this.appendDelta(op.id, op.kind, op.text ?? "");
      else if (op.op === "tool") this.upsertTool(op.id, op.tool);
      else if (op.op === "todo") {
        const entry = this.ensure(op.id);
        setPlan(entry.msg, op.todos);
        this.markDirty(entry, true);
      }
      else if (op.op === "question") this.upsertQuestion(op.id, op.question);
      else if (op.op === "permission") {
        const entry = this.ensure(op.id);
        entry.permission = op.permission;
        entry.answered = undefined;
        this.markDirty(entry, true);
      }
    }
  }

  /** Remove observers and pending callbacks. */
  destroy() {
    this.resizer.disconnect();
    cancelAnimationFrame(this.frame);
    this.pacer.close();
    clearTimeout(this.waiting);
    clearTimeout(this.relayoutTimer);
    clearTimeout(this.olderTimer);
  }

  /** Scroll to the newest message and keep following it. */
  scrollToBottom() {
    this.stick = true;
    this.layout();
    this.el.scrollTop = this.el.scrollHeight;
    this.autoScrolled = this.scrollTop = this.el.scrollTop;
  }

  /**
   * Bring one message into view and mark it (e.g. a search hit); false when it is not loaded.
   * @param {string} id
   * @returns {boolean}
   */
  reveal(id) {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.stick = false;
    this.scrollTop = Math.max(0, this.inner.offsetTop + this.offsetOf(entry) - 40);
    this.layout();
    this.el.scrollTop = this.scrollTop;
    this.hitId = id;
    for (const old of this.el.querySelectorAll(".jo-msg.jo-hit")) old.classList.remove("jo-hit");
    entry.el?.classList.add("jo-hit");
    entry.el?.scrollIntoView({ block: "start" });
    return true;
  }

  /** Ids of the loaded messages, oldest first. */
  ids() {
    return this.entries.map((e) => e.msg.id);
  }

  /** @param {boolean} hasMore */
  setHasMore(hasMore) {
    this.hasMore = Boolean(hasMore);
    this.olderButton.hidden = !this.hasMore;
    this.olderButton.textContent = "Load older messages";
    this.empty.hidden = this.entries.length > 0;
  }

  /** Ask for the page before the first message. */
  requestOlder() {
    const first = this.entries[0];
    if (!this.hasMore || this.loadingOlder || !first) return;
    this.loadingOlder = true;
    this.olderButton.textContent = "Loading…";
    // Give up waiting after a while so a lost reply does not block paging forever.
    this.olderTimer = window.setTimeout(() => {
      this.loadingOlder = false;
      this.setHasMore(this.hasMore);
    }, 10000);
    this.options.onLoadOlder(first.msg.id);
  }

  /** Load older pages while the list does not fill its box (no scrollbar to reach the top). */
  maybeFillUp() {
    const { clientHeight, scrollHeight } = this.el;
    if (clientHeight > 0 && scrollHeight <= clientHeight + TOP_PX) this.requestOlder();
  }

  onScroll() {
    const { scrollTop, scrollHeight, clientHeight } = this.el;
    const down = scrollTop >= this.scrollTop - 1;
    this.scrollTop = scrollTop;
    this.viewport = clientHeight;
    this.innerOffset = this.inner.offsetTop;
    // Our own scroll to follow a growing answer: nothing comes into range that the next frame
    // would not mount.
    if (this.stick && Math.abs(scrollTop - this.autoScrolled) < 1) return;
    // Only scrolling up stops following (content growing above, e.g. scroll anchoring, does not).
    if (!this.stick || !down) this.stick = scrollHeight - scrollTop - clientHeight < STICK_PX;
    if (scrollTop < TOP_PX) this.requestOlder();
    this.schedule(true);
  }

  /** @param {ResizeObserverEntry[]} records */
  onResize(records) {
    const held = this.anchor;
    this.anchor = null;
    if (held && !this.stick) this.holdAnchor(held.entry, held.at);
    let changed = false;
    let resized = false;
    for (const record of records) {
      const size = record.borderBoxSize?.[0]?.blockSize ?? record.contentRect.height;
      if (record.target === this.el) {
        this.viewport = size;
        changed = resized = true;
        continue;
      }
      if (record.target === this.top || record.target === this.bottom) {
        changed = true;
        continue;
      }
      const entry = this.byElement.get(record.target);
      if (entry && entry.el === record.target && size > 0 && Math.abs(size - entry.height) > 0.5) {
        entry.height = size;
        changed = true;
      }
    }
    if (!changed) return;
    // Read first, then write: the observer runs after layout, so the reads force none.
    const { scrollTop, scrollHeight, clientHeight } = this.el;
    // Spacers stand for unmounted messages only: a mounted one growing leaves them as they are.
    const bottom = scrollHeight - clientHeight;
    if (this.stick && performance.now() - this.clickedAt > 500 && Math.abs(scrollTop - bottom) >= 1) {
      this.el.scrollTop = bottom;
      this.autoScrolled = this.scrollTop = bottom;
    }
    if (resized || !this.streaming()) {
      this.schedule(true);
    } else if (!this.relayoutTimer) {
      // A growing answer may bring others into (or out of) the overscan: settle it soon, not
      // in an extra frame per streamed word.
      this.relayoutTimer = window.setTimeout(() => {
        this.relayoutTimer = 0;
        this.schedule(true);
      }, RELAYOUT_MS);
    }
  }

  /** Whether a mounted message is still streaming. */
  streaming() {
    for (const entry of this.mounted) if (LIVE.has(entry.msg.status)) return true;
    return false;
  }

  /**
   * @param {Message} message
   * @returns {Entry}
   */
  createEntry(message) {
    const msg = normalize(message);
    /** @type {Entry} */
    const entry = {
      msg,
      height: estimateHeight(msg),
      full: true,
      el: null,
      parts: null,
      body: null,
      markdown: null,
      extra: null,
      added: null,
    };
    this.empty.hidden = true;
    return entry;
  }

  /**
   * The entry's distance from the top of the first message, from known or estimated heights.
   * @param {Entry} entry
   */
  offsetOf(entry) {
    let offset = 0;
    for (const other of this.entries) {
      if (other === entry) break;
      offset += other.height;
    }
    return offset;
  }

  /** Mount the messages near the viewport, unmount the rest, size the spacers. */
  layout() {
    const count = this.entries.length;
    let total = 0;
    for (const entry of this.entries) total += entry.height;
    const viewport = this.viewport || this.el.clientHeight || 600;
    const top = this.stick ? total - viewport : this.scrollTop - this.innerOffset;
    const from = top - OVERSCAN_PX;
    const to = top + viewport + OVERSCAN_PX;
    let start = 0;
    let offset = 0;
    while (start < count - 1 && offset + this.entries[start].height < from) {
      offset += this.entries[start].height;
      start += 1;
    }
    let end = start;
    let endOffset = offset;
    while (end < count && endOffset < to) {
      endOffset += this.entries[end].height;
      end += 1;
    }
    const wanted = new Set(this.entries.slice(start, end));
    for (const entry of this.mounted) if (!wanted.has(entry)) this.unmount(entry);
    /** @type {ChildNode | null} */
    let cursor = this.top.nextSibling;
    for (const entry of wanted) {
      if (!entry.el) this.mount(entry);
      const el = /** @type {HTMLElement} */ (entry.el);
      if (el === cursor) cursor = cursor.nextSibling;
      else this.inner.insertBefore(el, cursor);
    }
    this.updateSpacers();
  }

  /** Spacer heights from the current heights of the unmounted messages. */
  updateSpacers() {
    let above = 0;
    let below = 0;
    let seen = false;
    for (const entry of this.entries) {
      if (entry.el) seen = true;
      else if (seen) below += entry.height;
      else above += entry.height;
    }
    // Written only when they change; a spacer that resizes is observed, and the observer keeps
    // the newest message in view after the layout (reading the scroll height here would force
    // one in the middle of the frame).
    if (above !== this.above) this.top.style.height = `${(this.above = above)}px`;
    if (below !== this.below) this.bottom.style.height = `${(this.below = below)}px`;
  }

  /** @param {Entry} entry */
  mount(entry) {
    const role = entry.msg.role === "user" ? "user" : "assistant";
    entry.parts = h("div", { class: "jo-parts" });
    entry.body = h("div", { class: role === "user" ? "jo-body jo-plain" : "jo-body jo-md" });
    entry.extra = h("div", { class: "jo-extra" });
    entry.markdown = role === "user" ? null : new MarkdownBody(entry.body);
    entry.el = h(
      "div",
      { class: "jo-msg", "data-id": entry.msg.id },
      h("div", { class: "jo-bubble" }, entry.parts, entry.body, entry.extra),
    );
    entry.full = true;
    this.byElement.set(entry.el, entry);
    this.mounted.add(entry);
    this.renderEntry(entry);
    this.resizer.observe(entry.el);
  }

  /** @param {Entry} entry */
  unmount(entry) {
    if (entry.el) {
      this.resizer.unobserve(entry.el);
      entry.el.remove();
    }
    entry.el = entry.parts = entry.body = entry.extra = null;
    entry.markdown = null;
    this.mounted.delete(entry);
  }

  /** @param {Entry} entry */
  renderEntry(entry) {
    const { msg } = entry;
    const el = /** @type {HTMLElement} */ (entry.el);
    const live = LIVE.has(msg.status);
    const compaction = (msg.parts ?? []).some((p) => p.kind === "compaction") ? " jo-compaction" : "";
    const className = `jo-msg jo-${msg.role === "user" ? "user" : "assistant"}${compaction} jo-status-${msg.status}${live ? " jo-live" : ""}${
      msg.id === this.hitId ? " jo-hit" : ""
    }`;
    if (el.className !== className) el.className = className;
    syncParts(/** @type {HTMLElement} */ (entry.parts), msg.parts ?? [], live, this.options.onAnswer);
    if (entry.markdown) entry.markdown.set(msg.content, live, entry.added);
    else if (entry.body && entry.body.textContent !== msg.content) entry.body.textContent = msg.content;
    entry.added = "";
    if (entry.full) /** @type {HTMLElement} */ (entry.extra).replaceChildren(...this.extras(entry, live));
    entry.full = false;
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
    const attached = entry.msg.attachments ?? [];
    if (attached.length) out.push(sentAttachments(attached));
    const permission = entry.permission;
    if (permission && (live || entry.answered)) {
      out.push(
        permissionPrompt(permission, entry.answered, (reply) => {
          entry.answered = reply;
          this.options.onPermission(permission.id, reply);
          entry.full = true;
          if (entry.el) this.renderEntry(entry); // the user's click shows at once
        }),
      );
    }
    const marker = statusMarker(entry.msg);
    if (marker) out.push(marker);
    const undo = undoNotebookChanges(entry.msg, live);
    if (undo) out.push(undo);
    const files = filesChanged(entry.msg, live);
    if (files) out.push(files);
    return out;
  }

  /**
   * @param {Entry} entry
   * @param {boolean} full whether more than the text changed
   */
  markDirty(entry, full) {
    if (full) entry.full = true;
    this.pending.add(entry);
    // Only streamed text is paced; a new message, tool or status shows in the next frame.
    this.schedule(full);
  }

  /**
   * Render and lay out at most once per animation frame, whatever arrived in between, and
   * streamed text at the pacer's cadence. Scrolling, resizing, new messages and statuses are
   * `urgent`: they show in the next frame.
   * @param {boolean} [urgent]
   */
  schedule(urgent = false) {
    if (this.frame) return;
    if (urgent) {
      clearTimeout(this.waiting);
      this.waiting = 0;
    } else if (this.waiting) {
      return;
    }
    const wait = this.pacer.wait(performance.now());
    if (wait > 0 && !urgent) {
      // Its wait over, the timer asks for the frame itself: a timer fires on a whole ms, and
      // asking the pacer again made up to three timers a frame.
      this.waiting = window.setTimeout(() => {
        this.waiting = 0;
        this.requestFrame();
      }, Math.ceil(wait));
      return;
    }
    this.requestFrame();
  }

  requestFrame() {
    if (this.frame) return;
    this.pacer.requested(performance.now());
    this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = 0;
    this.pacer.measure();
    // The cadence streamed text shows at now, for whoever measures the view's latency, and for
    // the host, which asks for text no more often (rounded up: it never comes faster).
    const interval = this.pacer.interval;
    const pace = String(Math.round(interval));
    if (this.el.dataset.paceMs !== pace) this.el.dataset.paceMs = pace;
    if (Math.abs(interval - this.cadence) >= CADENCE_STEP_MS) {
      this.cadence = Math.ceil(interval / 10) * 10;
      this.options.onCadence?.(this.cadence);
    }
    clearTimeout(this.relayoutTimer);
    this.relayoutTimer = 0;
    for (const entry of this.pending) if (entry.el) this.renderEntry(entry);
    this.pending.clear();
    this.layout();
  }

  /**
   * Handling received frames took `ms` of the main thread: the pacer counts it in its budget.
   * @param {number} ms
   */
  received(ms) {
    this.pacer.received(ms);
  }

  /** @param {Message} message */
  upsert(message) {
    const existing = this.byId.get(message.id);
    if (!existing) {
      const entry = this.createEntry(message);
      this.byId.set(message.id, entry);
      this.insertInOrder(entry);
      this.markDirty(entry, true);
      return;
    }
    // A final message without content keeps the text its deltas built (it is not sent twice).
    const content = "content" in message ? message.content : existing.msg.content;
    existing.msg = normalize({ ...message, content });
    existing.added = null;
    if (!LIVE.has(existing.msg.status) && !existing.answered) existing.permission = undefined;
    this.markDirty(existing, true);
  }

  /**
   * Insert a new entry after the last message that is not newer than it.
   * @param {Entry} entry
   */
  insertInOrder(entry) {
    const at = entry.msg.created_at;
    let index = this.entries.length;
    if (typeof at === "number") {
      while (index > 0) {
        const time = this.entries[index - 1].msg.created_at;
        if (typeof time !== "number" || time <= at) break;
        index -= 1;
      }
    }
    this.entries.splice(index, 0, entry);
  }

  /**
   * The entry for a message id, creating a streaming assistant placeholder if unknown.
   * @param {string} id
   * @returns {Entry}
   */
  ensure(id) {
    const existing = this.byId.get(id);
    if (existing) return existing;
    const entry = this.createEntry({ id, role: "assistant", status: "streaming", content: "", parts: [] });
    this.byId.set(id, entry);
    this.entries.push(entry);
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
    let full = false;
    if (kind === "reasoning") {
      const parts = /** @type {Part[]} */ (msg.parts);
      const last = parts[parts.length - 1];
      if (last?.kind === "reasoning") last.text += text;
      else parts.push({ kind: "reasoning", text });
    } else {
      msg.content += text;
      if (entry.added !== null) entry.added += text;
    }
    if (!LIVE.has(msg.status)) {
      msg.status = "streaming";
      full = true;
    }
    this.markDirty(entry, full);
  }

  /**
   * @param {string} id
   * @param {import("./types.js").QuestionPart} question
   */
  upsertQuestion(id, question) {
    const entry = this.ensure(id);
    const parts = /** @type {Part[]} */ (entry.msg.parts);
    const index = parts.findIndex((p) => p.kind === "question" && p.id === question.id);
    if (index >= 0) parts[index] = { ...question };
    else parts.push({ ...question });
    this.markDirty(entry, true);
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
    this.markDirty(entry, true);
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
 * A height guess for a message not yet mounted (replaced by its measured height once it is).
 * @param {Message} message
 * @returns {number}
 */
function estimateHeight(message) {
  let lines = 0;
  const text = message.content.length > 20000 ? message.content.slice(0, 20000) : message.content;
  for (const line of text.split("\n")) lines += Math.max(1, Math.ceil(line.length / CHARS_PER_LINE));
  return 24 + lines * LINE_PX + (message.parts?.length ?? 0) * 28;
}

/**
 * What a sent message carried: names and sizes, images as thumbnails.
 * @param {import("./types.js").StoredAttachment[]} items
 * @returns {HTMLElement}
 */
function sentAttachments(items) {
  return h(
    "div",
    { class: "jo-msg-context jo-msg-attachments" },
    ...items.map((a) => {
      const label = a.type === "folder" ? `${a.path ?? a.name}/` : (a.path ?? a.name);
      const title = a.type === "folder" ? label : `${label} (${humanSize(a.size)})`;
      return h(
        "span",
        { class: `jo-msg-ctx jo-msg-attachment-${a.type}`, title },
        a.type === "image" && a.data && IMAGE_TYPES.includes(a.mime ?? "")
          ? h("img", { class: "jo-attachment-thumb", alt: "", src: `data:${a.mime};base64,${a.data}` })
          : "",
        label,
      );
    }),
  );
}
