// The chat client shared by the notebook panel and the JupyterLab tab: one conversation state fed
// by the server's frames, one view, one set of message actions, one slash-command registry. A
// host adapter (the panel's kernel comm, a tab's REST + WebSocket) feeds it pages and frames and
// does what the user asks.
import { MessageActions } from "./actions.js";
import { menu, runCommand } from "./commands.js";
import { Conversation } from "./conversation.js";
import { ChatView } from "./view.js";

/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./types.js").ModelInfo} ModelInfo */
/** @typedef {import("./protocol.js").ServerFrame} ServerFrame */
/** @typedef {import("./actions.js").Annotation} Annotation */
/** @typedef {import("./actions.js").Hit} Hit */
/** @typedef {import("./types.js").ContextItem} ContextItem */

/**
 * DOM event dispatched on a chat's element by the notebook page (Explain, Fix, Ask about
 * this): attach `context`, then send `text`, or with no text put the cursor in the message box.
 * @typedef {{context: ContextItem[], text?: string, handled?: boolean}} AskDetail
 */
export const ASK_EVENT = "jupyter-opencode:ask";
/**
 * What a host does when the user acts (beside the commands of CommandHost).
 * @typedef {import("./commands.js").CommandHost & {
 *   prompt: (text: string) => void, stop: () => void,
 *   permission: (permissionId: string, reply: string) => void,
 *   loadOlder: (before: string) => void, retry: () => void,
 *   removeChip: (id: string) => void, setAutoContext: (on: boolean) => void,
 *   attachContext: (items: ContextItem[]) => void,
 *   open: (sessionId: string, messageId: string | null) => void,
 *   edit: (messageId: string, text: string) => void,
 *   annotate: (messageId: string, rating: "up" | "down" | null, note: string) => void,
 * }} Host
 */

export class ChatClient {
  /** @param {Host} host */
  constructor(host) {
    this.host = host;
    /** The session shown (set by the host). */
    this.sessionId = "";
    this.conversation = new Conversation();
    /** @type {ModelInfo[]} */
    this.models = [];
    this.model = "";
    /** The host has a prompt on its way (before the server's frames say so). */
    this.sending = false;
    this.view = new ChatView({
      onSend: (text) => this.submit(text),
      onStop: () => host.stop(),
      onSwitch: (id) => host.open(id, null),
      onNew: () => host.newChat(true),
      onFork: () => host.fork(),
      onModel: (id) => this.useModel(id),
      onPermission: (id, reply) => host.permission(id, reply),
      onLoadOlder: (before) => host.loadOlder(before),
      onRemoveChip: (id) => host.removeChip(id),
      onAutoContext: (on) => host.setAutoContext(on),
      onRetry: () => host.retry(),
      commands: menu(host),
    });
    this.el = this.view.el;
    this.actions = new MessageActions({
      root: this.view.el,
      list: this.view.list.el,
      requests: {
        edit: (mid, text) => host.edit(mid, text),
        rewind: (mid) => host.rewind(mid),
        annotate: (mid, rating, note) => host.annotate(mid, rating, note),
        open: (sid, mid) => host.open(sid, mid),
      },
    });
    /** @type {import("./commands.js").CommandContext} */
    this.commandContext = {
      host,
      notice: (level, text) => this.notice(level, text),
      messageCount: () => this.conversation.messages.length,
      lastUserMessage: () => this.conversation.lastUserMessage(),
      models: () => this.models,
      model: () => this.model,
      useModel: (id) => this.useModel(id),
    };
    /** @param {Event} event */
    this.onAsk = (event) => {
      const detail = /** @type {CustomEvent<AskDetail>} */ (event).detail;
      if (!detail) return;
      detail.handled = true;
      this.ask(detail.context ?? [], detail.text ?? "");
    };
    this.view.el.addEventListener(ASK_EVENT, this.onAsk);
  }

  /**
   * A question from the notebook page: attach its context, then send `text` or focus the box.
   * @param {ContextItem[]} context
   * @param {string} text
   */
  ask(context, text) {
    if (context.length) this.host.attachContext(context);
    this.view.composer.input.scrollIntoView({ block: "nearest" });
    if (text) this.submit(text);
    else this.view.composer.input.focus();
  }

  /**
   * What the user typed: a slash command, or a prompt for the host to send.
   * @param {string} text
   */
  submit(text) {
    if (runCommand(text, this.commandContext)) return;
    if (!text.trim()) return;
    this.host.prompt(text);
  }

  /**
   * The whole conversation, as a page read at `seq`.
   * @param {Message[]} messages
   * @param {boolean} hasMore
   * @param {number} seq
   */
  reset(messages, hasMore, seq) {
    this.conversation.reset(messages, seq);
    this.view.reset(messages, hasMore);
    this.actions.reset(messages);
    this.update();
  }

  /**
   * An older page, before the first message known.
   * @param {Message[]} messages
   * @param {boolean} hasMore
   */
  prepend(messages, hasMore) {
    this.conversation.prepend(messages);
    this.view.prepend(messages, hasMore);
    this.actions.prepend(messages);
  }

  /**
   * Frames of the server's stream (directly, or forwarded by the kernel).
   * @param {ServerFrame[]} frames
   */
  apply(frames) {
    /** @type {import("./protocol.js").Op[]} */
    const ops = [];
    for (const frame of frames) {
      if (frame.type === "rewind") {
        if (ops.length) this.render(ops.splice(0));
        // Stored with a seq like the chunks: a replay after a reconnect starts past it.
        if (typeof frame.seq === "number") this.conversation.seq = Math.max(this.conversation.seq, frame.seq);
        this.rewound(frame.removed, frame.notebook_changes ?? []);
      } else {
        ops.push(...this.conversation.apply(frame));
      }
    }
    this.render(ops);
    this.update();
  }

  /** @param {import("./protocol.js").Op[]} ops */
  render(ops) {
    if (!ops.length) return;
    this.view.applyOps(ops);
    this.actions.applyOps(ops);
  }

  /**
   * Drop messages a rewind removed (idempotent: a rewind's answer and its frame both come
   * here); when removed answers had changed notebooks, offer to undo that.
   * @param {string[]} removed
   * @param {string[]} notebookChanges
   */
  rewound(removed, notebookChanges) {
    if (!this.conversation.remove(removed)) return;
    const kept = this.conversation.messages;
    this.view.reset(kept, this.view.list.hasMore);
    this.actions.reset(kept);
    this.update();
    this.view.rewound(this.sessionId, notebookChanges);
  }

  /**
   * A message's rating and note as stored.
   * @param {string} messageId
   * @param {Annotation | null} annotation
   */
  setAnnotation(messageId, annotation) {
    const stored = /** @type {any} */ (this.conversation.byId.get(messageId));
    if (stored) stored.annotation = annotation;
    this.actions.setAnnotation(messageId, annotation);
  }

  /**
   * @param {string} query
   * @param {Hit[]} hits
   */
  showResults(query, hits) {
    this.actions.showResults(query, hits);
  }

  /**
   * @param {string} level
   * @param {string} text
   */
  notice(level, text) {
    this.view.notice(level, text);
  }

  /**
   * @param {ModelInfo[]} models
   * @param {string} current
   */
  setModels(models, current) {
    this.models = models;
    this.model = current;
    this.view.header.setModels(models, current);
  }

  /**
   * The user picked a model.
   * @param {string} id
   */
  useModel(id) {
    this.setModels(this.models, id);
    this.host.setModel(id);
  }

  /**
   * The host's word on a prompt on its way (the panel: its kernel's `busy`).
   * @param {boolean} sending
   */
  setSending(sending) {
    this.sending = sending;
    this.update();
  }

  /** Status line and busy state from the conversation. */
  update() {
    this.view.setStatus(this.conversation.status || (this.sending && !this.conversation.busy ? "Sending…" : ""));
    this.view.setBusy(this.sending || this.conversation.busy);
  }

  destroy() {
    this.view.el.removeEventListener(ASK_EVENT, this.onAsk);
    this.actions.destroy();
    this.view.destroy();
  }
}
