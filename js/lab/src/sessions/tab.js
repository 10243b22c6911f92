// @ts-check
/**
 * A conversation in a main-area tab: the shared conversation view, fed by the server's stream
 * (no kernel), prompting over REST with JupyterLab's server connection.
 */
import { Widget } from '@lumino/widgets';

import { ChatClient } from '@jupyter-opencode/chat/client.js';
import { INSERT_EVENT } from '@jupyter-opencode/chat/codeblocks.js';
import { h } from '@jupyter-opencode/chat/dom.js';
import { ApiError } from './api.js';
import { activeCellChips, cellChip, chip, lastErrorChips, outputImages, selectedCellChips } from './context.js';
import { tagsOf } from './sidebar.js';
import { describeVariable, listVariables } from './variables.js';

/**
 * @typedef {import('./api.js').OpencodeApi} OpencodeApi
 * @typedef {import('./stream.js').StreamConnection} StreamConnection
 * @typedef {import('./context.js').Chip} Chip
 * @typedef {import('@jupyterlab/notebook').NotebookPanel} NotebookPanel
 * @typedef {{
 *   api: OpencodeApi, stream: StreamConnection, sessionId: string,
 *   execute: (command: string, args?: any) => Promise<any>,
 *   notebook: () => NotebookPanel | null, template?: string, autoContext?: boolean,
 *   context?: Chip[], onCreated?: () => void, download: (blob: Blob, filename: string) => void,
 *   notebookPath?: string,
 * }} TabOptions
 */

/**
 * Main-thread ms a stream frame costs the page before the tab sees it: the socket and its JSON
 * (measured with bench_render.py --trace).
 */
const SOCKET_FRAME_MS = 0.4;

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
    /** The notebook this conversation is about, when opened from it ('' otherwise). */
    this.notebookPath = options.notebookPath ?? '';
    this.template = options.template ?? '';
    this.model = '';
    /** The agent picked in this tab ('': the conversation's own). */
    this.agent = '';
    this.titleText = '';
    /** @type {Chip[]} */
    this.chips = [];
    this.autoContext = Boolean(options.autoContext);
    this.addClass('jo-tab');
    this.node.dataset.session = this.sessionId;
    this.id = `jo-tab-${this.sessionId}`;
    this.title.label = 'New chat';
    this.title.closable = true;
    this.title.caption = 'opencode chat';

    const { api, execute } = options;
    const sid = () => this.sessionId;
    this.client = new ChatClient({
      kernel: false,
      prompt: (text, attachments) => void this.prompt(text, attachments),
      findFiles: async query => (await api.request('files', { query: { q: query, limit: 20 } })).files,
      variables: () => listVariables(options.notebook()),
      attachVariable: name => void this.attachVariable(name),
      stop: () => void this.call(() => api.abort(sid())),
      permission: (pid, reply) => void this.call(() => api.permission(sid(), pid, reply)),
      answer: (qid, answers) => void this.call(() => api.answer(sid(), qid, answers)),
      loadOlder: before => void this.loadOlder(before),
      retry: () => options.stream.retry(),
      cadence: ms => options.stream.setCadence(this, ms),
      frameCostMs: SOCKET_FRAME_MS,
      removeChip: id => this.setChips(this.chips.filter(c => c.id !== id)),
      attachContext: items => this.setChips([...this.chips, ...items.map(i => chip(i.kind, i.label, i.text))]),
      setAutoContext: on => (this.autoContext = on),
      open: (id, message) => void execute('jupyter-opencode:open', { id, message: message ?? undefined }),
      edit: (mid, text) => void this.edit(mid, text),
      rewind: mid => void this.rewind(mid),
      annotate: (mid, rating, note) => void this.annotate(mid, rating, note),
      newChat: keep => void execute('jupyter-opencode:new-chat', keep ? { context: this.chips } : {}),
      fork: () => void this.call(() => execute('jupyter-opencode:fork', { id: sid() }), 'Fork failed'),
      setModel: id => (this.model = id),
      attachCells: count => this.attachCells(count),
      exportAs: format => void this.exportAs(format),
      search: query => void this.search(query),
      rename: title => void this.organize('/rename', async () => {
        const session = await api.patch(sid(), { title });
        this.setTitle(session.title);
        return `Renamed to ${session.title}`;
      }),
      star: () => void this.organize('/star', async () => {
        const session = await api.patch(sid(), { starred: !(await this.existing()).starred });
        return session.starred ? 'Starred' : 'Unstarred';
      }),
      tag: name => void this.organize('/tag', async () => {
        const tags = tagsOf(await this.existing());
        const next = name.startsWith('-') ? tags.filter(t => t !== name.slice(1).trim()) : [...new Set([...tags, name])];
        return `Tags: ${tagsOf(await api.patch(sid(), { tags: next })).join(', ') || 'none'}`;
      }),
      template: name => void this.chooseTemplate(name),
      compact: () => void this.organize('/compact', async () => {
        await api.compact(sid());
        return 'Conversation compacted';
      }),
      opencodeCommand: (name, args) => void this.runOpencodeCommand(name, args),
      setAgent: name => {
        this.agent = name;
      }
    });
    this.client.sessionId = this.sessionId;
    this.view = this.client.view;
    this.conversation = this.client.conversation;
    this.actions = this.client.actions;
    this.view.el.classList.add('jo-chat-tab');
    const row = this.view.chips.el.querySelector('.jo-context-row');
    (row ?? this.view.chips.el).prepend(this.contextButtons());
    this.view.chips.setAuto(this.autoContext);
    if (options.context?.length) {
      this.setChips(options.context);
    }
    this.view.el.addEventListener(INSERT_EVENT, event => this.onInsert(/** @type {CustomEvent} */ (event)));
    /** @type {import('./api.js').Session[]} recent sessions for the header's picker */
    this.sessionList = [];
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
      ),
      h('button', {
        type: 'button',
        class: 'jo-btn',
        text: 'Add output as image',
        title: 'Attach the plots of the active cell (else of the last cell with one) as images',
        onclick: () => this.attachOutputImages()
      })
    );
  }

  /** The active (else last) cell's image outputs, as image chips of the composer. */
  attachOutputImages() {
    const images = outputImages(this.options.notebook());
    if (!images.length) {
      this.view.notice('info', 'Add output as image: no image output in the current notebook');
    }
    images.forEach(image => this.client.attach(image));
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
      this.client.reset(page.messages, page.has_more, page.last_seq);
      const session = await api.session(this.sessionId);
      this.setTitle(session.title);
      this.model = session.model ?? '';
      // The agent the conversation answers with shows as picked, unless one already is.
      this.agent = this.agent || (session.agent ?? '');
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) {
        this.client.notice('error', `Could not load the conversation: ${String(/** @type {Error} */ (error).message)}`);
      }
      this.client.reset([], false, 0);
    }
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
      this.model = this.model || data.default || '';
      this.client.setModels(data.models, this.model);
    } catch (error) {
      console.warn('jupyter-opencode: listing models failed', error);
    }
    try {
      const [agents, commands] = await Promise.all([api.agents(), api.commands()]);
      this.client.setToolset(agents.agents, commands.commands, this.agent);
    } catch (error) {
      console.warn("jupyter-opencode: listing opencode's agents and commands failed", error);
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

  /** @param {import('@jupyter-opencode/chat/protocol.js').ServerFrame} frame */
  onFrame(frame) {
    this.client.apply([frame]);
    if (frame.type === 'message' && frame.message.role === 'assistant' && frame.message.status !== 'pending' &&
        frame.message.status !== 'streaming' && !this.titleText) {
      void this.options.api.session(this.sessionId).then(s => this.setTitle(s.title), () => {});
    }
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
      this.client.prepend(page.messages, page.has_more);
      return true;
    } catch (error) {
      this.client.notice('error', `Could not load older messages: ${String(/** @type {Error} */ (error).message)}`);
      this.client.prepend([], false);
      return false;
    }
  }

  /**
   * What the user typed (a slash command or a prompt), as from the composer.
   * @param {string} text
   */
  async submit(text) {
    this.client.submit(text);
  }

  /**
   * A summary of a variable of the current notebook's kernel, as a context chip.
   * @param {string} name
   */
  async attachVariable(name) {
    const described = await describeVariable(this.options.notebook(), name);
    if (!described) {
      this.view.notice('error', `Could not read ${name} from the notebook's kernel`);
      return;
    }
    this.attach([chip(...described)], name);
  }

  /**
   * Send a prompt with the pending context and attachments over REST.
   * @param {string} text
   * @param {import('@jupyter-opencode/chat/attachments.js').WireAttachment[]} [attachments]
   */
  async prompt(text, attachments = []) {
    if (this.autoContext && !this.chips.length) {
      this.setChips(activeCellChips(this.options.notebook()));
    }
    /** @type {Record<string, unknown>} */
    const body = {
      text,
      model: this.model || null,
      context: this.chips.map(({ kind, label, text: body }) => ({ kind, label, text: body })),
      attachments
    };
    if (this.template && !this.conversation.messages.length) {
      body.template = this.template;
    }
    if (this.notebookPath) {
      body.notebook_path = this.notebookPath;
    }
    if (this.agent) {
      body.agent = this.agent;
    }
    await this.send('messages', body);
  }

  /**
   * Run one of opencode's commands in this conversation (like a prompt).
   * @param {string} name
   * @param {string} args
   */
  async runOpencodeCommand(name, args) {
    /** @type {Record<string, unknown>} */
    const body = { command: name, arguments: args, model: this.model || null };
    if (this.agent) {
      body.agent = this.agent;
    }
    await this.send('command', body);
  }

  /**
   * POST a prompt or a command; the answer streams on the socket.
   * @param {string} route
   * @param {Record<string, unknown>} body
   */
  async send(route, body) {
    this.client.setSending(true);
    const sid = this.sessionId;
    const fresh = !this.conversation.messages.length;
    const sent = await this.call(() =>
      this.options.api.request(`sessions/${sid}/${route}`, { method: 'POST', json: body })
    );
    if (sent && sid === this.sessionId) {
      // Known before the stream says so: a queued prompt waits for this answer to end.
      this.client.apply(
        [sent.user_message, sent.assistant_message].map(message => ({
          type: /** @type {const} */ ('message'),
          session_id: sid,
          message
        }))
      );
    }
    this.client.setSending(false);
    if (sent) {
      if (fresh) {
        this.options.onCreated?.(); // a new session: the sidebar lists it now
      }
      this.setChips([]);
      if (sent.session?.title && !this.titleText) {
        this.setTitle(sent.session.title);
      }
    }
  }

  /**
   * `/context N` without a kernel: the last N cells up to the active one of the current notebook.
   * @param {number} count
   */
  attachCells(count) {
    const panel = this.options.notebook();
    const cells = panel?.content.widgets ?? [];
    const end = panel ? panel.content.activeCellIndex + 1 : 0;
    const start = Math.max(0, end - count);
    this.attach(cells.slice(start, end).map((c, i) => cellChip(c, start + i)), 'Context');
  }

  /**
   * `/export FORMAT`: download the file.
   * @param {string} format
   */
  async exportAs(format) {
    try {
      const { blob, filename } = await this.options.api.exportFile(this.sessionId, { format });
      this.options.download(blob, filename);
      this.client.notice('info', `Exported ${filename}`);
    } catch (error) {
      const text = error instanceof ApiError && error.status === 404
        ? 'Nothing to export yet: send a message first.'
        : String(/** @type {Error} */ (error).message);
      this.client.notice('error', `Export failed: ${text}`);
    }
  }

  /** @param {string} query */
  async search(query) {
    const found = await this.call(() => this.options.api.search(query), '/search failed');
    if (found) {
      this.client.showResults(query, found.hits);
    }
  }

  /** The session as stored; an error when it has no message yet. */
  async existing() {
    try {
      return await this.options.api.session(this.sessionId);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        throw new Error('this conversation is not saved yet: send a message first');
      }
      throw error;
    }
  }

  /**
   * Run a library command; its answer is an info notice, a failure an error notice.
   * @param {string} what
   * @param {() => Promise<string>} work
   */
  async organize(what, work) {
    const done = await this.call(async () => {
      await this.existing();
      return work();
    }, `${what} failed`);
    if (done) {
      this.client.notice('info', done);
    }
  }

  /**
   * `/template NAME` (bare: list them): the first prompt starts with it.
   * @param {string} name
   */
  async chooseTemplate(name) {
    const known = await this.call(() => this.options.api.templates(), '/template failed');
    if (!known) {
      return;
    }
    if (!name) {
      const listing = known.map(t => `${t.name}: ${t.agent || 'default agent'}, ${t.model || 'default model'}`);
      this.client.notice('info', known.length ? `Templates:\n${listing.join('\n')}` : 'No templates yet.');
    } else if (!known.some(t => t.name === name)) {
      this.client.notice('error', `/template failed: no template named '${name}'; /template lists them`);
    } else {
      this.template = name;
      this.client.notice('info', `Template ${name} applies to your first message`);
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
        message = 'Still answering: stop the current reply first.';
      }
      this.client.notice('error', message);
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
      'Edit and resend failed'
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
    const done = await this.call(() => this.options.api.rewind(this.sessionId, messageId), 'Rewind failed');
    if (done) {
      this.client.rewound(done.removed, done.notebook_changes ?? [], done.file_changes ?? []);
    }
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
      'Saving the note failed'
    );
    this.client.setAnnotation(messageId, done ? done.annotation : stored?.annotation ?? null);
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
    this.options.stream.setCadence(this, null);
    this.client.destroy();
    super.dispose();
  }
}
