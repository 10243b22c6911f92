// @ts-check
/**
 * The "Chat sessions" sidebar: search, filters, the sessions most recent first with infinite
 * scroll, and per-session actions. Everything a model or a user wrote is put in as text.
 */
import { Widget } from '@lumino/widgets';

import { h } from '@jupyter-opencode/chat/dom.js';
import { snippetElement } from '@jupyter-opencode/chat/snippet.js';
import { ApiError } from './api.js';

/**
 * @typedef {import('./api.js').OpencodeApi} OpencodeApi
 * @typedef {import('./api.js').Session} Session
 * @typedef {import('./api.js').SearchHit} SearchHit
 * @typedef {{
 *   api: OpencodeApi, execute: (command: string, args?: any) => Promise<any>,
 *   notebookPath: () => string, pageSize: () => number,
 * }} SidebarOptions
 */

const SEARCH_DELAY_MS = 250;

/** @param {unknown} flag */
function truthy(flag) {
  return flag === true || flag === 1 || flag === '1' || flag === 'true';
}

/**
 * Tags of a session, whether the server sends a list or a JSON string.
 * @param {Session} session
 * @returns {string[]}
 */
export function tagsOf(session) {
  const tags = session.tags;
  if (Array.isArray(tags)) {
    return tags;
  }
  if (typeof tags === 'string' && tags) {
    try {
      const parsed = JSON.parse(tags);
      return Array.isArray(parsed) ? parsed.map(String) : [];
    } catch {
      return [];
    }
  }
  return [];
}

/** @param {number | undefined} seconds */
function when(seconds) {
  if (!seconds) {
    return '';
  }
  const date = new Date(seconds * 1000);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString();
}

export class SessionsSidebar extends Widget {
  /** @param {SidebarOptions} options */
  constructor(options) {
    super();
    this.options = options;
    this.id = 'jupyter-opencode-sessions';
    this.addClass('jo-sidebar');
    this.title.caption = 'Chat sessions';
    /** @type {Session[]} */
    this.sessions = [];
    /** @type {string | null} */
    this.cursor = null;
    this.loading = false;
    this.done = false;
    this.generation = 0;
    this.searchTimer = 0;
    /** @type {Set<string>} sessions picked for Compare */
    this.picked = new Set();
    /** @type {HTMLElement | null} */
    this.openMenu = null;

    this.ask = /** @type {HTMLTextAreaElement} */ (
      h('textarea', { class: 'jo-side-ask', rows: '2', 'aria-label': 'Ask in a new chat',
        placeholder: 'Ask in a new chat… (Enter sends)' })
    );
    this.ask.addEventListener('keydown', ev => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        const text = this.ask.value.trim();
        if (text) {
          this.ask.value = '';
          void options.execute('jupyter-opencode:new-chat', { prompt: text });
        }
      }
    });
    this.search = /** @type {HTMLInputElement} */ (
      h('input', { type: 'search', class: 'jo-side-search', 'aria-label': 'Search sessions',
        placeholder: 'Search sessions' })
    );
    this.search.addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = window.setTimeout(() => void this.refresh(), SEARCH_DELAY_MS);
    });
    this.starred = this.filterBox('Starred');
    this.archived = this.filterBox('Archived');
    this.thisNotebook = this.filterBox('This notebook');
    this.tag = /** @type {HTMLInputElement} */ (
      h('input', { type: 'text', class: 'jo-side-tag', 'aria-label': 'Tag', placeholder: 'Tag' })
    );
    this.tag.addEventListener('change', () => void this.refresh());
    this.compareButton = /** @type {HTMLButtonElement} */ (
      h('button', { type: 'button', class: 'jo-btn', text: 'Compare', disabled: true,
        title: 'Pick two sessions with their checkboxes to compare them',
        onclick: () => void options.execute('jupyter-opencode:compare', { ids: [...this.picked] }) })
    );
    this.message = h('div', { class: 'jo-side-message', role: 'status', 'aria-live': 'polite' });
    this.list = h('ul', { class: 'jo-side-list', role: 'list', 'aria-label': 'Sessions' });
    this.sentinel = h('div', { class: 'jo-side-more', 'aria-hidden': 'true' });
    this.scroller = h('div', { class: 'jo-side-scroll' }, this.list, this.sentinel);
    this.node.append(
      h(
        'div',
        { class: 'jo-side-head' },
        h('h2', { class: 'jo-side-title', text: 'Chat sessions' }),
        h('div', { class: 'jo-side-buttons' },
          h('button', { type: 'button', class: 'jo-btn jo-btn-primary', text: 'New chat',
            onclick: () => void options.execute('jupyter-opencode:new-chat') }),
          h('button', { type: 'button', class: 'jo-btn', text: 'New from template',
            onclick: () => void options.execute('jupyter-opencode:new-from-template') }),
          this.compareButton,
          h('button', { type: 'button', class: 'jo-btn jo-icon-btn', 'aria-label': 'Refresh sessions',
            title: 'Refresh', text: '⟳', onclick: () => void this.refresh() }))
      ),
      this.ask,
      this.search,
      h('div', { class: 'jo-side-filters', role: 'group', 'aria-label': 'Filters' },
        this.starred.parentElement ?? '', this.archived.parentElement ?? '',
        this.thisNotebook.parentElement ?? '', this.tag),
      this.message,
      this.scroller
    );
    this.observer = new IntersectionObserver(records => {
      if (records.some(r => r.isIntersecting)) {
        void this.loadMore();
      }
    }, { root: this.scroller, rootMargin: '200px' });
    this.observer.observe(this.sentinel);
    document.addEventListener('click', this.closeMenus, true);
    // A fixed menu would stay behind while its row scrolls away.
    this.scroller.addEventListener('scroll', this.closeMenu, { passive: true });
    window.addEventListener('resize', this.closeMenu);
  }

  /**
   * @param {string} label
   * @returns {HTMLInputElement}
   */
  filterBox(label) {
    const box = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox' }));
    box.addEventListener('change', () => void this.refresh());
    h('label', { class: 'jo-side-filter' }, box, label);
    return box;
  }

  /** Close an open action menu when the user clicks elsewhere. */
  closeMenus = (/** @type {Event} */ event) => {
    if (this.openMenu && !this.openMenu.parentElement?.contains(/** @type {Node} */ (event.target))) {
      this.closeMenu();
    }
  };

  closeMenu = () => {
    if (this.openMenu) {
      this.openMenu.hidden = true;
      this.openMenu = null;
    }
  };

  /**
   * Open a row's menu (or close it) beside its button. The menu is fixed to the viewport so
   * that neither the rows after it nor the scrolling list can cover or clip it.
   * @param {HTMLElement} menu
   * @param {HTMLElement} button
   */
  toggleMenu(menu, button) {
    const wasOpen = this.openMenu === menu;
    this.closeMenu();
    if (wasOpen) {
      return;
    }
    menu.hidden = false;
    this.openMenu = menu;
    const anchor = button.getBoundingClientRect();
    const size = menu.getBoundingClientRect();
    const left = Math.max(4, Math.min(anchor.right - size.width, window.innerWidth - size.width - 4));
    // Below the button, or above it when the viewport has no room below.
    const below = anchor.bottom + 2;
    const top = below + size.height <= window.innerHeight - 4 ? below : Math.max(4, anchor.top - size.height - 2);
    menu.style.left = `${left}px`;
    menu.style.top = `${top}px`;
    // An ancestor that is a containing block for fixed elements would shift the menu: undo it.
    const placed = menu.getBoundingClientRect();
    menu.style.left = `${2 * left - placed.left}px`;
    menu.style.top = `${2 * top - placed.top}px`;
  }

  /** Focus the search box. */
  focusSearch() {
    this.search.focus();
    this.search.select();
  }

  /** Focus the "Ask in a new chat" box. */
  focusAsk() {
    this.ask.focus();
  }

  /** Start over: first page of the list, or the search hits. */
  async refresh() {
    this.generation += 1;
    this.sessions = [];
    this.cursor = null;
    this.done = false;
    this.loading = false;
    this.list.replaceChildren();
    this.message.textContent = '';
    if (this.search.value.trim()) {
      await this.loadHits(this.generation);
    } else {
      await this.loadMore();
    }
  }

  /** The next page of sessions (infinite scroll). */
  async loadMore() {
    if (this.loading || this.done || this.search.value.trim()) {
      return;
    }
    const generation = this.generation;
    this.loading = true;
    try {
      const page = await this.options.api.sessions({
        limit: this.options.pageSize(),
        cursor: this.cursor,
        starred: this.starred.checked,
        archived: this.archived.checked,
        tag: this.tag.value.trim() || undefined,
        notebook: this.thisNotebook.checked ? this.options.notebookPath() || undefined : undefined
      });
      if (generation !== this.generation) {
        return;
      }
      this.cursor = page.next_cursor;
      this.done = !page.next_cursor;
      const fresh = page.sessions.filter(s => !this.sessions.some(o => o.id === s.id));
      this.sessions.push(...fresh);
      this.list.append(...fresh.map(s => this.row(s)));
      if (!this.sessions.length) {
        this.message.textContent = 'No sessions yet: start a new chat.';
      }
    } catch (error) {
      this.message.textContent = `Could not list sessions: ${String(/** @type {Error} */ (error).message)}`;
      this.done = true;
    } finally {
      this.loading = false;
    }
    // Keep filling while the sentinel is still in view (a tall sidebar, a short page).
    if (!this.done && generation === this.generation && this.sentinelVisible()) {
      void this.loadMore();
    }
  }

  sentinelVisible() {
    const box = this.scroller.getBoundingClientRect();
    return box.height > 0 && this.sentinel.getBoundingClientRect().top < box.bottom + 200;
  }

  /** @param {number} generation */
  async loadHits(generation) {
    const q = this.search.value.trim();
    try {
      const { hits } = await this.options.api.search(q);
      if (generation !== this.generation) {
        return;
      }
      this.list.replaceChildren(...hits.map(hit => this.hitRow(hit)));
      this.message.textContent = hits.length ? `${hits.length} matches` : 'No matches';
    } catch (error) {
      if (generation !== this.generation) {
        return;
      }
      if (error instanceof ApiError && error.status === 404) {
        // A server without full-text search: match titles of the sessions listed.
        const { sessions } = await this.options.api.sessions({ limit: 200, q });
        const needle = q.toLowerCase();
        const matching = sessions.filter(s => (s.title || '').toLowerCase().includes(needle));
        this.list.replaceChildren(...matching.map(s => this.row(s)));
        this.message.textContent = matching.length ? `${matching.length} titles match` : 'No matches';
      } else {
        this.message.textContent = `Search failed: ${String(/** @type {Error} */ (error).message)}`;
      }
    }
  }

  /**
   * One search hit: title, role, snippet with highlights; opens the session at the hit.
   * @param {SearchHit} hit
   */
  hitRow(hit) {
    const open = () =>
      void this.options.execute('jupyter-opencode:open', { id: hit.session_id, message: hit.message_id });
    return h(
      'li',
      { class: 'jo-side-item jo-hit-item', 'data-session': hit.session_id },
      h(
        'button',
        { type: 'button', class: 'jo-side-open', onclick: open,
          'aria-label': `Open ${hit.title || 'Untitled'} at this match` },
        h('span', { class: 'jo-side-name', text: hit.title || 'Untitled' }),
        h('span', { class: 'jo-side-meta', text: `${hit.role ?? hit.kind} · ${when(hit.created_at)}` }),
        snippetElement(hit.snippet ?? '', hit.highlights ?? [])
      )
    );
  }

  /**
   * One session row with its actions.
   * @param {Session} session
   */
  row(session) {
    const title = session.title || 'Untitled';
    const starred = truthy(session.starred);
    const tags = tagsOf(session);
    const pick = /** @type {HTMLInputElement} */ (
      h('input', { type: 'checkbox', class: 'jo-side-pick', 'aria-label': `Select ${title} to compare` })
    );
    pick.checked = this.picked.has(session.id);
    pick.addEventListener('change', () => {
      if (pick.checked) {
        this.picked.add(session.id);
      } else {
        this.picked.delete(session.id);
      }
      this.compareButton.disabled = this.picked.size !== 2;
    });
    const menu = this.actionMenu(session);
    const meta = [when(session.last_activity ?? session.updated_at), `${session.message_count ?? 0} messages`];
    return h(
      'li',
      { class: `jo-side-item${truthy(session.archived) ? ' jo-archived' : ''}`, 'data-session': session.id },
      pick,
      h(
        'button',
        { type: 'button', class: 'jo-side-open', title: session.first_message_preview || title,
          onclick: () => void this.options.execute('jupyter-opencode:open', { id: session.id }) },
        h('span', { class: 'jo-side-name', text: title }),
        h('span', { class: 'jo-side-meta', text: meta.filter(Boolean).join(' · ') }),
        tags.length ? h('span', { class: 'jo-side-tags' }, ...tags.map(t => h('span', { class: 'jo-tag', text: t }))) : null
      ),
      h('button', {
        type: 'button',
        class: `jo-icon-btn jo-star${starred ? ' jo-on' : ''}`,
        'aria-label': starred ? `Unstar ${title}` : `Star ${title}`,
        'aria-pressed': String(starred),
        text: starred ? '★' : '☆',
        onclick: () => void this.act('star', session)
      }),
      h('div', { class: 'jo-menu-wrap' },
        h('button', {
          type: 'button', class: 'jo-icon-btn jo-more', 'aria-label': `Actions for ${title}`,
          'aria-haspopup': 'menu', text: '⋯',
          onclick: (/** @type {MouseEvent} */ ev) => this.toggleMenu(menu, /** @type {HTMLElement} */ (ev.currentTarget))
        }),
        menu)
    );
  }

  /**
   * @param {Session} session
   * @returns {HTMLElement}
   */
  actionMenu(session) {
    /** @type {[string, string][]} */
    const items = [
      ['Open', 'open'],
      ['Rename…', 'rename'],
      [truthy(session.starred) ? 'Unstar' : 'Star', 'star'],
      [truthy(session.archived) ? 'Unarchive' : 'Archive', 'archive'],
      ['Tags…', 'tags'],
      ['Fork', 'fork'],
      ['Duplicate', 'duplicate'],
      ['Export…', 'export'],
      ['Delete…', 'delete']
    ];
    const menu = h(
      'ul',
      { class: 'jo-menu', role: 'menu', hidden: true },
      ...items.map(([label, action]) =>
        h('li', { role: 'none' },
          h('button', {
            type: 'button', role: 'menuitem', class: `jo-menu-item${action === 'delete' ? ' jo-danger' : ''}`,
            text: label,
            onclick: () => {
              this.closeMenu();
              void this.act(action, session);
            }
          }))
      )
    );
    return menu;
  }

  /**
   * Run one per-session action through its command, then refresh the list.
   * @param {string} action
   * @param {Session} session
   */
  async act(action, session) {
    const id = session.id;
    const { execute } = this.options;
    try {
      if (action === 'open') {
        await execute('jupyter-opencode:open', { id });
        return;
      }
      if (action === 'export') {
        await execute('jupyter-opencode:export', { id });
        return;
      }
      const changed = await execute(`jupyter-opencode:${action}`, { id, session });
      if (changed !== false) {
        await this.refresh();
      }
    } catch (error) {
      this.message.textContent = `${action} failed: ${String(/** @type {Error} */ (error).message)}`;
    }
  }

  /** @param {import('@lumino/messaging').Message} msg */
  onAfterAttach(msg) {
    super.onAfterAttach(msg);
    if (!this.sessions.length && !this.loading) {
      void this.refresh();
    }
  }

  dispose() {
    this.observer.disconnect();
    document.removeEventListener('click', this.closeMenus, true);
    window.removeEventListener('resize', this.closeMenu);
    super.dispose();
  }
}
