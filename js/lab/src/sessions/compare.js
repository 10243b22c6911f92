// @ts-check
/**
 * Two sessions side by side, aligned turn by turn (a user message and the answers after it),
 * with the first turn where they differ marked.
 */
import { Widget } from '@lumino/widgets';

import { h } from '@jupyter-opencode/chat/dom.js';
import { renderMarkdown } from '@jupyter-opencode/chat/markdown.js';

/**
 * @typedef {import('./api.js').OpencodeApi} OpencodeApi
 * @typedef {import('@jupyter-opencode/chat/types.js').Message} Message
 * @typedef {{user: Message | null, answers: Message[]}} Turn
 */

const MAX_PAGES = 40;

/**
 * Every message of a session, oldest first.
 * @param {OpencodeApi} api
 * @param {string} sid
 * @returns {Promise<Message[]>}
 */
async function allMessages(api, sid) {
  let page = await api.messages(sid, { limit: 500 });
  const messages = [...page.messages];
  for (let i = 0; i < MAX_PAGES && page.has_more && messages.length; i++) {
    page = await api.messages(sid, { limit: 500, before: messages[0].id });
    messages.unshift(...page.messages);
  }
  return messages;
}

/**
 * Group messages into turns: each user message with the answers that follow it.
 * @param {Message[]} messages
 * @returns {Turn[]}
 */
export function turns(messages) {
  /** @type {Turn[]} */
  const out = [];
  for (const message of messages) {
    if (message.role === 'user' || !out.length) {
      out.push({ user: message.role === 'user' ? message : null, answers: [] });
      if (message.role === 'user') {
        continue;
      }
    }
    out[out.length - 1].answers.push(message);
  }
  return out;
}

/**
 * @param {Turn | undefined} turn
 * @returns {string}
 */
function turnKey(turn) {
  if (!turn) {
    return '';
  }
  return JSON.stringify([turn.user?.content ?? '', turn.answers.map(m => m.content)]);
}

/**
 * The index of the first turn that differs, or -1 when the two are the same.
 * @param {Turn[]} left
 * @param {Turn[]} right
 */
export function divergence(left, right) {
  const count = Math.max(left.length, right.length);
  for (let i = 0; i < count; i++) {
    if (turnKey(left[i]) !== turnKey(right[i])) {
      return i;
    }
  }
  return -1;
}

export class CompareView extends Widget {
  /**
   * @param {OpencodeApi} api
   * @param {string} leftId
   * @param {string} rightId
   */
  constructor(api, leftId, rightId) {
    super();
    this.api = api;
    this.ids = [leftId, rightId];
    this.id = `jo-compare-${leftId}-${rightId}`;
    this.addClass('jo-compare');
    this.title.label = 'Compare chats';
    this.title.closable = true;
    this.status = h('div', { class: 'jo-compare-status', role: 'status', text: 'Loading…' });
    this.grid = h('div', { class: 'jo-compare-grid', role: 'table', 'aria-label': 'Compared sessions' });
    this.node.append(h('div', { class: 'jo-chat jo-compare-body' }, this.status, this.grid));
    void this.load();
  }

  async load() {
    try {
      const [sessions, messages] = await Promise.all([
        Promise.all(this.ids.map(id => this.api.session(id))),
        Promise.all(this.ids.map(id => allMessages(this.api, id)))
      ]);
      const [left, right] = messages.map(turns);
      const at = divergence(left, right);
      this.title.label = `Compare: ${sessions[0].title || 'Untitled'} / ${sessions[1].title || 'Untitled'}`;
      this.status.textContent = at < 0
        ? 'The two conversations are the same.'
        : `They diverge at turn ${at + 1} of ${Math.max(left.length, right.length)}.`;
      const header = h('div', { class: 'jo-compare-row jo-compare-head', role: 'row' },
        ...sessions.map(s => h('div', { class: 'jo-compare-cell', role: 'columnheader', text: s.title || 'Untitled' })));
      const rows = [];
      for (let i = 0; i < Math.max(left.length, right.length); i++) {
        const row = h('div', { class: `jo-compare-row${i === at ? ' jo-diverge' : ''}${i > at && at >= 0 ? ' jo-after' : ''}`, role: 'row', 'data-turn': String(i + 1) },
          this.cell(left[i]), this.cell(right[i]));
        if (i === at) {
          rows.push(h('div', { class: 'jo-diverge-mark', role: 'note', text: `Diverges here (turn ${i + 1})` }));
        }
        rows.push(row);
      }
      this.grid.replaceChildren(header, ...rows);
    } catch (error) {
      this.status.textContent = `Could not load the sessions: ${String(/** @type {Error} */ (error).message)}`;
    }
  }

  /**
   * @param {Turn | undefined} turn
   * @returns {HTMLElement}
   */
  cell(turn) {
    if (!turn) {
      return h('div', { class: 'jo-compare-cell jo-compare-empty', role: 'cell', text: '(no turn)' });
    }
    const parts = [];
    if (turn.user) {
      parts.push(h('div', { class: 'jo-msg jo-user' }, h('div', { class: 'jo-bubble jo-plain', text: turn.user.content })));
    }
    for (const answer of turn.answers) {
      const body = h('div', { class: 'jo-body jo-md' });
      body.append(renderMarkdown(answer.content));
      parts.push(h('div', { class: 'jo-msg jo-assistant' }, h('div', { class: 'jo-bubble' }, body)));
    }
    return h('div', { class: 'jo-compare-cell', role: 'cell' }, ...parts);
  }
}
