// The chat client shared by the notebook panel and the JupyterLab tab: one conversation state fed
// by the server's frames, one view, one set of message actions, one slash-command registry. A
// host adapter (the panel's kernel comm, a tab's REST + WebSocket) feeds it pages and frames and
// does what the user asks.
import { MessageActions } from "./actions.js";
import { MAX_IMAGE_BYTES, base64Of } from "./attachments.js";
import { isOpencodeCommand, menu, opencodeMenu, runCommand } from "./commands.js";
import { Conversation } from "./conversation.js";
import { humanSize } from "./dom.js";
import { latestUsage } from "./usage.js";
import { ChatView } from "./view.js";

/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./types.js").ModelInfo} ModelInfo */
/** @typedef {import("./protocol.js").ServerFrame} ServerFrame */
/** @typedef {import("./actions.js").Annotation} Annotation */
/** @typedef {import("./actions.js").Hit} Hit */
/** @typedef {import("./attachments.js").AttachmentInput} AttachmentInput */
/** @typedef {import("./attachments.js").WireAttachment} WireAttachment */
/** @typedef {import("./mentions.js").MentionItem} MentionItem */
/** @typedef {import("./mentions.js").MentionSource} MentionSource */
/** @typedef {{path: string, type: "file" | "folder", hidden?: boolean, size?: number}} FoundFile */
/** @typedef {{name: string, type: string, shape?: string}} Variable */

// The kernel's variables are asked for once per burst of typing, not per keystroke.
const VARIABLES_TTL_MS = 3000;
/** @typedef {import("./types.js").ContextItem} ContextItem */

/**
 * DOM event dispatched on a chat's element by the notebook page (Explain, Fix, Ask about
 * this): attach `context`, then send `text`, or with no text put the cursor in the message box.
 * @typedef {{context: ContextItem[], text?: string, images?: AttachmentInput[], handled?: boolean}} AskDetail
 */
export const ASK_EVENT = "jupyter-opencode:ask";
/**
 * What a host does when the user acts (beside the commands of CommandHost).
 * `findFiles` and `variables` feed the @ menu where the host can (a second source, e.g.
 * subagents, is one more entry of `mentionSources`); `cadence` gets the ms between two frames
 * that may show streamed text whenever it changes (frames of text sent more often only cost
 * the page); `frameCostMs` is what a frame costs the page's main thread before it reaches
 * `apply` (its transport), which the pacer counts in its budget with the time `apply` takes.
 * @typedef {import("./commands.js").CommandHost & {
 *   prompt: (text: string, attachments: WireAttachment[]) => void, stop: () => void,
 *   findFiles?: (query: string) => Promise<FoundFile[]>,
 *   variables?: () => Promise<Variable[]>, attachVariable?: (name: string) => void,
 *   permission: (permissionId: string, reply: string) => void,
 *   answer: (questionId: string, answers: string[][] | null) => void,
 *   loadOlder: (before: string) => void, retry: () => void,
 *   cadence?: (ms: number) => void, frameCostMs?: number,
 *   removeChip: (id: string) => void, setAutoContext: (on: boolean) => void,
 *   attachContext: (items: ContextItem[]) => void,
 *   open: (sessionId: string, messageId: string | null) => void,
 *   edit: (messageId: string, text: string) => void,
 *   annotate: (messageId: string, rating: "up" | "down" | null, note: string) => void,
 *   setAgent: (name: string) => void,
 * }} Host
 * @typedef {{name: string, description: string, mode: string}} AgentInfo
 * @typedef {{name: string, description: string, source?: string}} OpencodeCommand
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
    /** @type {AgentInfo[]} opencode's agents */
    this.agents = [];
    /** @type {OpencodeCommand[]} opencode's commands */
    this.opencodeCommands = [];
    /** The host has a prompt on its way (before the server's frames say so). */
    this.sending = false;
    this.view = new ChatView({
      onSend: (text) => this.submit(text),
      onStop: () => host.stop(),
      onSwitch: (id) => host.open(id, null),
      onNew: () => host.newChat(true),
      onFork: () => host.fork(),
      onModel: (id) => this.useModel(id),
      onCompact: () => host.compact(),
      onPermission: (id, reply) => host.permission(id, reply),
      onAnswer: (id, answers) => host.answer(id, answers),
      onLoadOlder: (before) => host.loadOlder(before),
      onCadence: (ms) => host.cadence?.(ms),
      onRemoveChip: (id) => host.removeChip(id),
      onAutoContext: (on) => host.setAutoContext(on),
      onRetry: () => host.retry(),
      onAgent: (name) => host.setAgent(name),
      commands: menu(host),
      mentions: () => this.mentionSources(),
      onMention: (item) => this.mention(item),
      onImages: (files) => void this.attachImages(files),
      onPaths: (paths) => paths.forEach((path) => this.attach({ type: "file", path })),
    });
    this.attachments = this.view.attachments;
    /** @type {{at: number, list: Promise<Variable[]>} | null} */
    this.knownVariables = null;
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
      opencodeCommands: () => this.opencodeCommands,
    };
    /** @param {Event} event */
    this.onAsk = (event) => {
      const detail = /** @type {CustomEvent<AskDetail>} */ (event).detail;
      if (!detail) return;
      detail.handled = true;
      this.ask(detail.context ?? [], detail.text ?? "", detail.images ?? []);
    };
    this.view.el.addEventListener(ASK_EVENT, this.onAsk);
  }

  /**
   * A question from the notebook page: attach its context (and images), then send `text` or
   * focus the box.
   * @param {ContextItem[]} context
   * @param {string} text
   * @param {AttachmentInput[]} [images]
   */
  ask(context, text, images = []) {
    if (context.length) this.host.attachContext(context);
    for (const image of images) this.attach(image);
    this.view.composer.input.scrollIntoView({ block: "nearest" });
    if (text) this.submit(text);
    else this.view.composer.input.focus();
  }

  /**
   * What the user typed: a slash command, or a prompt for the host to send.
   * @param {string} text
   */
  submit(text) {
    // A prompt, or one of opencode's commands, waits while the agent answers; ours run at once.
    if (this.busy && (isOpencodeCommand(text, this.commandContext) || !text.trim().startsWith("/"))) {
      if (text.trim()) this.view.queue.add(text, this.sessionId);
      return;
    }
    this.send(text);
  }

  /** @param {string} text */
  send(text) {
    if (runCommand(text, this.commandContext)) return;
    if (!text.trim()) return;
    const attachments = this.attachments.wire();
    if (attachments.some((a) => a.type === "image")) this.warnIfNoImages();
    this.host.prompt(text, attachments);
    this.attachments.clear();
  }

  /**
   * Attach a file or folder (a path under the Jupyter root) or an image to the next prompt:
   * a chip the user can remove. The id of its chip.
   * @param {AttachmentInput} input
   * @returns {string}
   */
  attach(input) {
    if (input.type === "image") this.warnIfNoImages();
    return this.attachments.add(input);
  }

  /** Say so when the model picked drops images (opencode sends it none, silently). */
  warnIfNoImages() {
    const model = this.models.find((m) => m.id === this.model);
    if (model && model.images === false) {
      this.notice("error", `${model.name} does not take images: it will not see the attached images. Pick another model to send them.`);
    }
  }

  /**
   * Pasted or dropped images, each as a chip with its thumbnail.
   * @param {File[]} files
   */
  async attachImages(files) {
    for (const file of files) {
      if (file.size > MAX_IMAGE_BYTES) {
        this.notice("error", `${file.name || "The image"} is over 5 MB: not attached.`);
        continue;
      }
      const name = file.name && file.name !== "image.png" ? file.name : `pasted-${Date.now()}.${file.type.split("/")[1]}`;
      this.attach({ type: "image", mime: file.type, data: await base64Of(file), name });
    }
  }

  /** @returns {MentionSource[]} */
  mentionSources() {
    /** @type {MentionSource[]} */
    const sources = [];
    const { variables, findFiles } = this.host;
    if (variables) {
      sources.push({ kind: "variable", find: async (query) => this.matchVariables(variables, query) });
    }
    if (findFiles) {
      sources.push({
        kind: "file",
        find: async (query) =>
          (await findFiles(query)).map((f) => ({
            kind: f.type,
            label: f.path,
            value: f.path,
            detail: f.type === "folder" ? "folder" : humanSize(f.size ?? 0),
            size: f.size,
            dim: Boolean(f.hidden),
          })),
      });
    }
    return sources;
  }

  /**
   * @param {() => Promise<Variable[]>} variables
   * @param {string} query
   * @returns {Promise<MentionItem[]>}
   */
  async matchVariables(variables, query) {
    const now = Date.now();
    if (!this.knownVariables || now - this.knownVariables.at > VARIABLES_TTL_MS) {
      this.knownVariables = { at: now, list: variables() };
    }
    const needle = query.toLowerCase();
    return (await this.knownVariables.list)
      .filter((v) => v.name.toLowerCase().includes(needle))
      .sort((a, b) => Number(!a.name.toLowerCase().startsWith(needle)) - Number(!b.name.toLowerCase().startsWith(needle)))
      .slice(0, 6)
      .map((v) => ({ kind: "variable", label: v.name, value: v.name, detail: [v.type, v.shape].filter(Boolean).join(" ") }));
  }

  /**
   * What the user picked in the @ menu.
   * @param {MentionItem} item
   */
  mention(item) {
    if (item.kind === "variable") this.host.attachVariable?.(item.value);
    else if (item.kind === "file" || item.kind === "folder") {
      this.attach({ type: item.kind, path: item.value, size: item.size });
    }
  }

  /**
   * opencode's agents and commands, and the agent picked ("": the session's own).
   * @param {AgentInfo[]} agents
   * @param {OpencodeCommand[]} commands
   * @param {string} agent
   */
  setToolset(agents, commands, agent) {
    this.agents = agents;
    this.opencodeCommands = commands;
    const primary = agents.filter((a) => a.mode !== "subagent");
    this.view.composer.setAgents(primary, agent);
    this.view.composer.setCommands([...menu(this.host), ...opencodeMenu(commands)]);
  }

  /** Whether an answer is in progress or a prompt on its way (a new prompt waits in the queue). */
  get busy() {
    return this.sending || this.conversation.busy;
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
    const started = performance.now();
    /** @type {import("./protocol.js").Op[]} */
    const ops = [];
    // Streamed words into an answer already under way change no status, busy state or usage:
    // those are left as they are.
    const quiet =
      frames.every((f) => f.type === "chunk" && (f.kind === "text" || f.kind === "reasoning")) &&
      this.conversation.busy;
    for (const frame of frames) {
      if (frame.type === "rewind") {
        if (ops.length) this.render(ops.splice(0));
        // Stored with a seq like the chunks: a replay after a reconnect starts past it.
        if (typeof frame.seq === "number") this.conversation.seq = Math.max(this.conversation.seq, frame.seq);
        this.rewound(frame.removed, frame.notebook_changes ?? [], frame.file_changes ?? []);
      } else {
        ops.push(...this.conversation.apply(frame));
      }
    }
    this.render(ops);
    if (!quiet) this.update();
    this.view.list.received(performance.now() - started + (this.host.frameCostMs ?? 0));
  }

  /** @param {import("./protocol.js").Op[]} ops */
  render(ops) {
    if (!ops.length) return;
    this.view.applyOps(ops);
    this.actions.applyOps(ops);
  }

  /**
   * Drop messages a rewind removed (idempotent: a rewind's answer and its frame both come
   * here); when removed answers had changed notebooks or files, offer to undo that.
   * @param {string[]} removed
   * @param {string[]} notebookChanges
   * @param {string[]} [fileChanges]
   */
  rewound(removed, notebookChanges, fileChanges = []) {
    if (!this.conversation.remove(removed)) return;
    const kept = this.conversation.messages;
    this.view.reset(kept, this.view.list.hasMore);
    this.actions.reset(kept);
    this.update();
    this.view.rewound(this.sessionId, notebookChanges, fileChanges);
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
    if (!this.busy) {
      const next = this.view.queue.next(this.sessionId);
      if (next !== null) {
        this.sending = true; // until the host says otherwise: the next queued prompt waits
        this.send(next);
      }
    }
    this.view.setStatus(this.conversation.status || (this.sending && !this.conversation.busy ? "Sending…" : ""));
    this.view.setBusy(this.busy);
    this.view.header.context.set(latestUsage(this.conversation.messages));
    this.view.header.context.setBusy(this.busy);
  }

  destroy() {
    this.view.el.removeEventListener(ASK_EVENT, this.onAsk);
    this.actions.destroy();
    this.view.destroy();
  }
}
