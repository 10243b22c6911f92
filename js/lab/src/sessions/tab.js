// @ts-check
/**
 * A conversation in a main-area tab: the shared conversation view, fed by the server's stream
 * (no kernel), prompting over REST with JupyterLab's server connection.
 */
import { Widget } from '@lumino/widgets';

import { MessageActions } from '../../../src/actions.js';
import { INSERT_EVENT } from '../../../src/codeblocks.js';
import { COMMANDS } from '../../../src/composer.js';
import { Conversation } from '../../../src/conversation.js';
import { h } from '../../../src/dom.js';
import { ChatView } from '../../../src/view.js';
import { ApiError } from './api.js';
import { activeCellChips, cellChip, lastErrorChips, selectedCellChips } from './context.js';

/**
 * @typedef {import('./api.js').OpencodeApi} OpencodeApi
 * @typedef {import('./stream.js').StreamConnection} StreamConnection
 * @typedef {import('./context.js').Chip} Chip
 * @typedef {import('@jupyterlab/notebook').NotebookPanel} NotebookPanel
 * @typedef {{
 *   api: OpencodeApi, stream: StreamConnection, sessionId: string,
 *   execute: (command: string, args?: any) => Promise<any>,
 *   notebook: () => NotebookPanel | null, template?: string, autoContext?: boolean,
 *   onCreated?: () => void,
 * }} TabOptions
 */

/** A fresh session id (the session is created by its first prompt). */
export function newSessionId() {
  return crypto.randomUUID().replace(/-/g, '');
}

export class ConversationTab extends Widget {
  /** @param {TabOptions} options */
  constructor(options) {
    super();
    this.options = options;
    this.sessionId = options.sessionId;
    this.template = options.template ?? '';
    this.model = '';
    this.titleText = '';
    /** @type {Chip[]} */
    this.chips = [];
    this.autoContext = Boolean(options.autoContext);
    this.conversation = new Conversation();
    this.addClass('jo-tab');
    this.node.dataset.session = this.sessionId;
    this.id = `jo-tab-${this.sessionId}`;
    this.title.label = 'New chat';
    this.title.closable = true;
    this.title.caption = 'opencode chat';

    this.view = new ChatView({
      onSend: text => void this.submit(text),
      onStop: () => void this.call(() => options.api.abort(this.sessionId)),
      onSwitch: id => void options.execute('jupyter-opencode:open', { id }),
      onNew: () => void options.execute('jupyter-opencode:new-chat'),
      onFork: () => void options.execute('jupyter-opencode:fork', { id: this.sessionId }),
      onModel: id => {
        this.model = id;
        this.view.header.setModels(this.models ?? [], id);
      },
      onPermission: (pid, reply) => void this.call(() => options.api.permission(this.sessionId, pid, reply)),
      onLoadOlder: before => void this.loadOlder(before),
      onRemoveChip: id => this.setChips(this.chips.filter(c => c.id !== id)),
      onAutoContext: on => (this.autoContext = on),
      onRetry: () => options.stream.retry()
    });
    /** @type {{id: string, name: string}[] | null} */
    this.models = null;
    /** @type {import('./api.js').Session[]} recent sessions for the header's picker */
    this.sessionList = [];
    this.view.el.classList.add('jo-chat-tab');
    const row = this.view.chips.el.querySelector('.jo-context-row');
    (row ?? this.view.chips.el).prepend(this.contextButtons());
    this.view.chips.setAuto(this.autoContext);
    this.view.el.addEventListener(INSERT_EVENT, event => this.onInsert(/** @type {CustomEvent} */ (event)));
    this.actions = new MessageActions({
      root: this.view.el,
      list: this.view.list.el,
      requests: {
        edit: (mid, text) => void this.edit(mid, text),
        rewind: mid => void this.rewind(mid),
        annotate: (mid, rating, note) => void this.annotate(mid, rating, note),
        open: (id, message) => void options.execute('jupyter-opencode:open', { id, message: message ?? undefined })
      }
    });
    this.node.append(this.view.el);
    this.unsubscribe = () => {};
    /** @type {string | null} message to reveal once loaded */
    this.pendingReveal = null;
    this.loaded = this.load();
  }

  /** Buttons attaching notebook context read from the active notebook's model. */
  contextButtons() {
    const notebook = () => this.options.notebook();
    /** @type {[string, string, () => Chip[]][]} */
    const actions = [
      ['Add active cell', 'Attach the active cell of the current notebook', () => activeCellChips(notebook())],
      ['Add selected cells', 'Attach the selected cells of the current notebook', () => selectedCellChips(notebook())],
      ['Add last error', 'Attach the last error of the current notebook', () => lastErrorChips(notebook())]
    ];
    return h(
      'div',
      { class: 'jo-context-actions' },
      ...actions.map(([label, title, read]) =>
        h('button', {
          type: 'button',
          class: 'jo-btn',
          text: label,
          title,
          onclick: () => this.attach(read(), label)
        })
      )
    );
  }

  /**
   * @param {Chip[]} chips
   * @param {string} what
   */
  attach(chips, what) {
    if (!chips.length) {
      this.view.notice('info', `${what}: nothing to attach (no notebook, cell or error)`);
      return;
    }
    this.setChips([...this.chips, ...chips]);
  }

  /** @param {Chip[]} chips */
  setChips(chips) {
    this.chips = chips;
    this.view.chips.setChips(chips);
  }

  /** Read the stored conversation, then follow its stream from the last seq read. */
  async load() {
    const { api, stream } = this.options;
    try {
      const page = await api.messages(this.sessionId);
      this.conversation.reset(page.messages);
      this.conversation.seq = page.last_seq;
      this.view.reset(page.messages, page.has_more);
      this.actions.reset(page.messages);
      const session = await api.session(this.sessionId);
      this.setTitle(session.title);
      this.model = session.model ?? '';
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) {
        this.view.notice('error', `Could not load the conversation: ${String(/** @type {Error} */ (error).message)}`);
      }
      this.view.reset([], false);
      this.actions.reset([]);
    }
    this.updateBusy();
    this.unsubscribe = stream.subscribe(this.sessionId, {
      lastSeq: () => this.conversation.seq,
      onFrame: frame => this.onFrame(frame),
      onState: (state, error) => this.view.setConnection(state, error)
    });
    void this.loadPickers();
    if (this.pendingReveal) {
      this.reveal(this.pendingReveal);
    }
  }

  /** Models and recent sessions for the header's pickers (best effort). */
  async loadPickers() {
    const { api } = this.options;
    try {
      this.sessionList = (await api.sessions({ limit: 50 })).sessions;
      this.view.header.setSessions(this.sessionList, this.sessionId, this.titleText);
    } catch (error) {
      console.warn('jupyter-opencode: listing sessions failed', error);
    }
    try {
      const data = await api.models();
      this.models = data.models;
      this.model = this.model || data.default || '';
      this.view.header.setModels(data.models, this.model);
    } catch (error) {
      console.warn('jupyter-opencode: listing models failed', error);
    }
  }

  /** @param {string} title */
  setTitle(title) {
    this.titleText = title || '';
    this.title.label = title || 'New chat';
    this.title.caption = title || 'opencode chat';
    this.view.header.setTitle(title);
    this.view.header.setSessions(this.sessionList, this.sessionId, this.titleText);
  }

  /** @param {import('../../../src/protocol.js').ServerFrame} frame */
  onFrame(frame) {
    if (frame.type === 'rewind') {
      // Stored with a seq like the chunks: a replay after a reconnect starts past it.
      this.conversation.seq = Math.max(this.conversation.seq, frame.seq);
      this.rewound(frame.removed, frame.notebook_changes ?? []);
      return;
    }
    const ops = this.conversation.apply(frame);
    if (ops.length) {
      this.view.applyOps(ops);
      this.actions.applyOps(ops);
    }
    this.view.setStatus(this.conversation.status);
    this.updateBusy();
    if (frame.type === 'message' && frame.message.role === 'assistant' && frame.message.status !== 'pending' &&
        frame.message.status !== 'streaming' && !this.titleText) {
      void this.options.api.session(this.sessionId).then(s => this.setTitle(s.title), () => {});
    }
  }

  updateBusy() {
    this.view.setBusy(this.conversation.busy);
  }

  /**
   * Scroll to a message and mark it (a search hit), once the conversation is loaded.
   * @param {string} messageId
   */
  reveal(messageId) {
    this.pendingReveal = messageId;
    void this.loaded.then(async () => {
      // An older message needs older pages first.
      for (let i = 0; i < 50 && !this.view.list.reveal(messageId) && this.view.list.hasMore; i++) {
        const first = this.view.list.ids()[0];
        if (!first || !(await this.loadOlder(first))) {
          break;
        }
      }
      this.pendingReveal = null;
    });
  }

  /**
   * @param {string} before
   * @returns {Promise<boolean>} whether a page came
   */
  async loadOlder(before) {
    try {
      const page = await this.options.api.messages(this.sessionId, { before });
      this.conversation.prepend(page.messages);
      this.view.prepend(page.messages, page.has_more);
      this.actions.prepend(page.messages);
      return true;
    } catch (error) {
      this.view.notice('error', `Could not load older messages: ${String(/** @type {Error} */ (error).message)}`);
      this.view.prepend([], false);
      return false;
    }
  }

  /**
   * A slash command or a prompt from the composer.
   * @param {string} text
   */
  async submit(text) {
    if (text.startsWith('/')) {
      await this.command(text);
      return;
    }
    if (this.autoContext && !this.chips.length) {
      this.setChips(activeCellChips(this.options.notebook()));
    }
    /** @type {Record<string, unknown>} */
    const body = {
      text,
      model: this.model || null,
      context: this.chips.map(({ kind, label, text: body }) => ({ kind, label, text: body }))
    };
    if (this.template && !this.conversation.messages.length) {
      body.template = this.template;
    }
    const sent = await this.call(() =>
      this.options.api.request(`sessions/${this.sessionId}/messages`, { method: 'POST', json: body })
    );
    if (sent) {
      if (!this.conversation.messages.length) {
        this.options.onCreated?.(); // a new session: the sidebar lists it now
      }
      this.setChips([]);
      if (sent.session?.title && !this.titleText) {
        this.setTitle(sent.session.title);
      }
    }
  }

  /** @param {string} text */
  async command(text) {
    const [name, ...rest] = text.split(/\s+/);
    const arg = rest.join(' ').trim();
    const { execute } = this.options;
    if (name === '/new' || name === '/clear') {
      await execute('jupyter-opencode:new-chat');
    } else if (name === '/fork') {
      await execute('jupyter-opencode:fork', { id: this.sessionId });
    } else if (name === '/model' && arg) {
      this.model = arg;
      this.view.header.setModels(this.models ?? [], arg);
      this.view.notice('info', `Model: ${arg}`);
    } else if (name === '/context') {
      const panel = this.options.notebook();
      const count = Math.max(1, Number(arg) || 1);
      const cells = panel?.content.widgets ?? [];
      const end = panel ? panel.content.activeCellIndex + 1 : 0;
      this.attach(cells.slice(Math.max(0, end - count), end).map((c, i) => cellChip(c, end - count + i)), 'Context');
    } else if (name === '/export') {
      await execute('jupyter-opencode:export', { id: this.sessionId, format: arg || undefined });
    } else if (name === '/search' && arg) {
      const found = await this.call(() => this.options.api.search(arg), 'Could not search');
      if (found) {
        this.actions.showResults(arg, found.hits);
      }
    } else if (name === '/rewind') {
      const last = this.conversation.messages.findLast(m => m.role === 'user');
      if (last) {
        await this.rewind(last.id);
      } else {
        this.view.notice('info', 'Nothing to take back.');
      }
    } else {
      this.view.notice('info', COMMANDS.map(c => `${c.name}: ${c.help}`).join('\n'));
    }
  }

  /**
   * Run an API call; a failure becomes an error notice in the view.
   * @template T
   * @param {() => Promise<T>} fn
   * @param {string} [what] what failed, e.g. "Could not rewind" (else a 409 means a busy prompt)
   * @returns {Promise<T | null>}
   */
  async call(fn, what = '') {
    try {
      return await fn();
    } catch (error) {
      const text = String(/** @type {Error} */ (error).message);
      let message = text;
      if (what) {
        message = `${what}: ${text}`;
      } else if (error instanceof ApiError && error.status === 409) {
        message = 'The session is still answering the previous message.';
      }
      this.view.notice('error', message);
      return null;
    }
  }

  /**
   * Edit and resend: the edited message goes to a new branch, opened in its own tab.
   * @param {string} messageId
   * @param {string} text
   */
  async edit(messageId, text) {
    this.view.notices.clearErrors();
    const sent = await this.call(
      () => this.options.api.edit(this.sessionId, messageId, text, this.model || null),
      'Could not edit and resend'
    );
    if (sent?.session?.id) {
      this.options.onCreated?.();
      await this.options.execute('jupyter-opencode:open', { id: sent.session.id });
    }
  }

  /**
   * Rewind: remove this message and every later one (the stream tells every view too).
   * @param {string} messageId
   */
  async rewind(messageId) {
    this.view.notices.clearErrors();
    const done = await this.call(() => this.options.api.rewind(this.sessionId, messageId), 'Could not rewind');
    if (done) {
      this.rewound(done.removed, done.notebook_changes ?? []);
    }
  }

  /**
   * Drop removed messages (from this tab's rewind, another view's, or one over REST); when
   * removed answers had changed notebooks, offer to undo that. Idempotent: the answer of our
   * own rewind and its stream frame both come here, and only the first one does something.
   * @param {string[]} removed
   * @param {string[]} notebookChanges
   */
  rewound(removed, notebookChanges) {
    if (!this.conversation.remove(removed)) {
      return;
    }
    const kept = this.conversation.messages;
    this.view.reset(kept, this.view.list.hasMore);
    this.actions.reset(kept);
    this.updateBusy();
    this.view.rewound(this.sessionId, notebookChanges);
  }

  /**
   * Rate a message and keep a note on it; on failure the stored annotation comes back.
   * @param {string} messageId
   * @param {'up' | 'down' | null} rating
   * @param {string} note
   */
  async annotate(messageId, rating, note) {
    const stored = /** @type {any} */ (this.conversation.byId.get(messageId));
    const done = await this.call(
      () => this.options.api.annotate(this.sessionId, messageId, rating, note),
      'Could not save the rating or note'
    );
    if (done && stored) {
      stored.annotation = done.annotation;
    }
    this.actions.setAnnotation(messageId, done ? done.annotation : stored?.annotation ?? null);
  }

  /**
   * Insert as cell from a code block: into the current notebook, below its active cell.
   * @param {CustomEvent<{code: string, run: boolean, handled: boolean}>} event
   */
  onInsert(event) {
    const detail = event.detail;
    if (!detail || detail.handled || !this.options.notebook()) {
      return;
    }
    detail.handled = true;
    void this.options.execute('jupyter-opencode:insert-cell-below', { code: detail.code, run: detail.run });
  }

  /** Focus the composer's Message box. */
  focusComposer() {
    this.view.composer.input.focus();
  }

  /** @param {import('@lumino/messaging').Message} msg */
  onActivateRequest(msg) {
    super.onActivateRequest(msg);
    this.focusComposer();
  }

  dispose() {
    if (this.isDisposed) {
      return;
    }
    this.unsubscribe();
    this.actions.destroy();
    this.view.destroy();
    super.dispose();
  }
}
