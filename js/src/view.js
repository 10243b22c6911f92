// The conversation view shared by the notebook panel (anywidget) and the JupyterLab tab:
// header, connection banner, notices, message list, status line, context chips, composer.
import "./chat.css";
import { undoButton } from "./approval.js";
import { PendingAttachments } from "./attachments.js";
import { fileUndoButton } from "./filechanges.js";
import { ContextChips } from "./chips.js";
import { Composer } from "./composer.js";
import { h } from "./dom.js";
import { Header } from "./header.js";
import { MessageList } from "./messages.js";
import { Notices } from "./notices.js";
import { PromptQueue } from "./queue.js";
import "./toolset.css";

const REWOUND_TEXT = "The answers taken back had changed notebooks.";
const REWOUND_FILES_TEXT = "The answers taken back had changed files.";

/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./types.js").Chip} Chip */
/** @typedef {import("./types.js").SessionInfo} SessionInfo */
/** @typedef {import("./types.js").ModelInfo} ModelInfo */
/** @typedef {import("./protocol.js").Op} Op */
/**
 * What the host does when the user acts.
 * @typedef {{
 *   onSend: (text: string) => void, onStop: () => void,
 *   onSwitch: (id: string) => void, onNew: () => void, onFork: () => void,
 *   onModel: (id: string) => void, onCompact: () => void,
 *   onPermission: (permissionId: string, reply: string) => void,
 *   onAnswer: import("./questions.js").OnAnswer,
 *   onLoadOlder: (before: string) => void, onCadence?: (ms: number) => void,
 *   onRemoveChip: (id: string) => void, onAutoContext: (on: boolean) => void,
 *   onRetry?: () => void, commands?: import("./composer.js").SlashCommand[],
 *   mentions?: () => import("./mentions.js").MentionSource[],
 *   onMention?: (item: import("./mentions.js").MentionItem) => void,
 *   onImages?: (images: File[]) => void, onPaths?: (paths: string[]) => void,
 *   onAgent?: (name: string) => void,
 * }} ViewActions
 */

const CONNECTION_TEXT = {
  connecting: "Connecting to the opencode server…",
  reconnecting: "Connection lost, reconnecting…",
  offline: "Offline: not connected to the opencode server.",
  disconnected: "Disconnected.",
};

export class ChatView {
  /** @param {ViewActions} actions */
  constructor(actions) {
    this.el = h("div", { class: "jo-chat" });
    this.onRetry = actions.onRetry;
    this.header = new Header({
      onSwitch: actions.onSwitch,
      onNew: actions.onNew,
      onFork: actions.onFork,
      onModel: actions.onModel,
      onCompact: actions.onCompact,
    });
    this.banner = h("div", { class: "jo-banner", role: "alert", hidden: true });
    this.notices = new Notices();
    this.list = new MessageList({
      eventRoot: this.el,
      onPermission: actions.onPermission,
      onAnswer: actions.onAnswer,
      onLoadOlder: actions.onLoadOlder,
      onCadence: actions.onCadence,
    });
    this.status = h("div", { class: "jo-status", role: "status", "aria-live": "polite" });
    this.queue = new PromptQueue();
    this.chips = new ContextChips({ onRemove: actions.onRemoveChip, onAutoContext: actions.onAutoContext });
    this.composer = new Composer({
      onSend: (text) => {
        this.notices.clearErrors();
        this.list.scrollToBottom();
        actions.onSend(text);
      },
      onStop: actions.onStop,
      onAgent: actions.onAgent,
      commands: actions.commands,
      mentions: actions.mentions,
      onMention: actions.onMention,
      onImages: actions.onImages,
      onPaths: actions.onPaths,
      onRefused: (text) => this.notice("error", text),
    });
    this.attachments = new PendingAttachments();
    this.el.append(
      this.header.el,
      this.banner,
      this.notices.el,
      this.list.el,
      this.status,
      this.queue.el,
      this.chips.el,
      this.attachments.el,
      this.composer.el,
    );
  }

  /** @param {string} text */
  setStatus(text) {
    if (this.status.textContent === text) return;
    this.status.textContent = text;
    this.status.classList.toggle("jo-status-error", text.startsWith("Error"));
  }

  /** @param {boolean} busy */
  setBusy(busy) {
    if (busy === this.composer.busy && this.el.classList.contains("jo-busy") === busy) return;
    this.composer.setBusy(busy);
    this.el.classList.toggle("jo-busy", busy);
  }

  /**
   * Show the banner unless connected.
   * @param {string} state "", "connected", "connecting", "reconnecting" or "offline"
   * @param {string} error
   */
  setConnection(state, error) {
    const show = state !== "" && state !== "connected";
    this.banner.hidden = !show;
    if (!show) return;
    const text = CONNECTION_TEXT[/** @type {keyof typeof CONNECTION_TEXT} */ (state)] ?? `Connection: ${state}`;
    this.banner.replaceChildren(h("strong", { text }), error ? h("span", { class: "jo-banner-detail", text: error }) : "");
    const retry = this.onRetry;
    if (state === "disconnected" && retry) {
      this.banner.append(h("button", { class: "jo-btn jo-banner-retry", text: "Retry", onclick: () => retry() }));
    }
  }

  /**
   * @param {Message[]} messages
   * @param {boolean} hasMore
   */
  reset(messages, hasMore) {
    this.list.reset(messages, hasMore);
  }

  /**
   * @param {Message[]} messages
   * @param {boolean} hasMore
   */
  prepend(messages, hasMore) {
    this.list.prepend(messages, hasMore);
  }

  /** @param {Op[]} ops */
  applyOps(ops) {
    this.list.applyOps(ops);
  }

  /**
   * @param {string} level
   * @param {string} text
   */
  notice(level, text) {
    this.notices.show(level, text);
  }

  /**
   * A rewind removed answers whose notebook or file changes are not undone: offer to undo them.
   * @param {string | undefined} sessionId
   * @param {string[]} notebookChanges
   * @param {string[]} fileChanges
   */
  rewound(sessionId, notebookChanges, fileChanges) {
    if (notebookChanges.length) this.notices.offer(REWOUND_TEXT, undoButton(sessionId, notebookChanges));
    if (fileChanges.length) this.notices.offer(REWOUND_FILES_TEXT, fileUndoButton(sessionId, fileChanges));
  }

  destroy() {
    this.list.destroy();
    this.notices.destroy();
    this.el.remove();
  }
}
