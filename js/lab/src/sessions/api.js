// @ts-check
/**
 * The extension's REST routes, called with JupyterLab's own server connection settings
 * (base URL, token, XSRF cookie), so they work with no kernel at all.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * @typedef {import('@jupyter-opencode/chat/types.js').Message} Message
 * @typedef {{id: string, title: string, model?: string | null, status?: string,
 *   parent_id?: string | null, notebook_path?: string | null, created_at?: number,
 *   updated_at?: number, last_activity?: number, message_count?: number,
 *   first_message_preview?: string, starred?: boolean | number, archived?: boolean | number,
 *   tags?: string[] | string, agent?: string | null}} Session
 * @typedef {{session_id: string, message_id: string | null, kind: 'message' | 'title' | 'note' | 'attachment',
 *   title: string, role: string | null, created_at: number, snippet: string,
 *   highlights: [number, number][]}} SearchHit
 * @typedef {{q?: string, starred?: boolean, archived?: boolean, tag?: string,
 *   notebook?: string, cursor?: string | null, limit?: number}} SessionQuery
 * @typedef {{name: string, model?: string, agent?: string, instructions?: string}} Template
 */

/** An error answer of the API, with its status and the server's reason. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {string} reason
   */
  constructor(status, message, reason) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export class OpencodeApi {
  /** @param {ServerConnection.ISettings} [settings] */
  constructor(settings) {
    this.settings = settings ?? ServerConnection.makeSettings();
  }

  /**
   * The full URL of a route under `{base_url}opencode/`.
   * @param {string} path
   * @param {Record<string, string | number | boolean | null | undefined>} [query]
   */
  url(path, query = {}) {
    /** @type {Record<string, string>} */
    const params = {};
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') {
        params[key] = String(value);
      }
    }
    const search = new URLSearchParams(params).toString();
    return URLExt.join(this.settings.baseUrl, 'opencode', path) + (search ? `?${search}` : '');
  }

  /**
   * A JSON request; a 4xx/5xx becomes an ApiError with the server's message.
   * @param {string} path
   * @param {RequestInit & {query?: Record<string, any>, json?: unknown}} [init]
   * @returns {Promise<any>}
   */
  async request(path, init = {}) {
    const { query, json, ...rest } = init;
    if (json !== undefined) {
      rest.body = JSON.stringify(json);
    }
    const response = await ServerConnection.makeRequest(this.url(path, query), rest, this.settings);
    if (response.status === 204) {
      return null;
    }
    const text = await response.text();
    /** @type {any} */
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { message: text };
    }
    if (!response.ok) {
      throw new ApiError(response.status, data?.message || response.statusText, data?.reason || '');
    }
    return data;
  }

  /**
   * A page of sessions, most recent first, with the filters the server knows.
   * @param {SessionQuery} [query]
   * @returns {Promise<{sessions: Session[], next_cursor: string | null}>}
   */
  sessions(query = {}) {
    const { starred, archived, ...rest } = query;
    return this.request('sessions', {
      query: { ...rest, starred: starred ? 'true' : undefined, archived: archived ? 'true' : undefined }
    });
  }

  /**
   * @param {string} sid
   * @returns {Promise<Session>}
   */
  session(sid) {
    return this.request(`sessions/${sid}`);
  }

  /**
   * @param {string} sid
   * @param {{title?: string, starred?: boolean, archived?: boolean, tags?: string[]}} fields
   * @returns {Promise<Session>}
   */
  patch(sid, fields) {
    return this.request(`sessions/${sid}`, { method: 'PATCH', json: fields });
  }

  /** @param {string} sid */
  remove(sid) {
    return this.request(`sessions/${sid}`, { method: 'DELETE' });
  }

  /**
   * A new session with a copy of this one (up to `messageId` when given).
   * @param {string} sid
   * @param {string} [messageId]
   * @returns {Promise<{session: Session}>}
   */
  fork(sid, messageId) {
    return this.request(`sessions/${sid}/fork`, {
      method: 'POST',
      json: messageId ? { message_id: messageId } : {}
    });
  }

  /**
   * A page of messages, oldest first, ending before `before`.
   * @param {string} sid
   * @param {{before?: string, limit?: number}} [query]
   * @returns {Promise<{messages: Message[], has_more: boolean, last_seq: number}>}
   */
  messages(sid, query = {}) {
    return this.request(`sessions/${sid}/messages`, { query });
  }

  /**
   * Compaction: the conversation summarized by the model (later prompts go on from it).
   * @param {string} sid
   */
  compact(sid) {
    return this.request(`sessions/${sid}/compact`, { method: 'POST', json: {} });
  }

  /** @param {string} sid */
  abort(sid) {
    return this.request(`sessions/${sid}/abort`, { method: 'POST', json: {} });
  }

  /**
   * @param {string} sid
   * @param {string} pid
   * @param {string} reply
   */
  permission(sid, pid, reply) {
    return this.request(`sessions/${sid}/permissions/${pid}`, { method: 'POST', json: { reply } });
  }

  /**
   * Answer a question of the agent (a list of labels per question), or dismiss it (null).
   * @param {string} sid
   * @param {string} qid
   * @param {string[][] | null} answers
   */
  answer(sid, qid, answers) {
    const json = answers ? { answers } : { reject: true };
    return this.request(`sessions/${sid}/questions/${qid}`, { method: 'POST', json });
  }

  /**
   * Rewind: remove this message and every later one.
   * @param {string} sid
   * @param {string} mid
   * @returns {Promise<{removed: string[], notebook_changes: string[], file_changes?: string[],
   *   session: Session}>}
   */
  rewind(sid, mid) {
    return this.request(`sessions/${sid}/messages/${mid}`, { method: 'DELETE' });
  }

  /**
   * Resend an edited user message in a new branch (202, like a prompt).
   * @param {string} sid
   * @param {string} mid
   * @param {string} text
   * @param {string | null} model
   * @returns {Promise<{session: Session}>}
   */
  edit(sid, mid, text, model) {
    return this.request(`sessions/${sid}/messages/${mid}/edit`, { method: 'POST', json: { text, model } });
  }

  /**
   * Rate a message and keep a note on it (both empty: removed).
   * @param {string} sid
   * @param {string} mid
   * @param {'up' | 'down' | null} rating
   * @param {string} note
   * @returns {Promise<{message_id: string, annotation: {rating: 'up' | 'down' | null, note: string} | null}>}
   */
  annotate(sid, mid, rating, note) {
    return this.request(`sessions/${sid}/messages/${mid}/annotation`, { method: 'PUT', json: { rating, note } });
  }

  /** @returns {Promise<{models: {id: string, name: string}[], default?: string | null}>} */
  models() {
    return this.request('models');
  }

  /** @returns {Promise<{agents: {name: string, description: string, mode: string}[]}>} */
  agents() {
    return this.request('agents');
  }

  /** @returns {Promise<{commands: {name: string, description: string, source: string}[]}>} */
  commands() {
    return this.request('commands');
  }

  /**
   * Full-text search over titles and messages.
   * @param {string} q
   * @param {string | null} [cursor]
   * @returns {Promise<{hits: SearchHit[], next_cursor: string | null}>}
   */
  search(q, cursor) {
    return this.request('search', { query: { q, cursor } });
  }

  /** @returns {Promise<Template[]>} */
  async templates() {
    const data = await this.request('templates');
    return Array.isArray(data) ? data : data?.templates ?? [];
  }

  /**
   * @param {string} sid
   * @param {{format: string, timestamps?: boolean, context?: boolean, redact?: boolean}} options
   */
  exportUrl(sid, options) {
    const { format, timestamps, context, redact } = options;
    return this.url(`sessions/${sid}/export`, {
      format,
      timestamps: timestamps ? 'true' : 'false',
      context: context ? 'true' : 'false',
      redact: redact ? 'true' : 'false'
    });
  }

  /**
   * Download an export through the server connection (auth headers), as a Blob.
   * @param {string} sid
   * @param {{format: string, timestamps?: boolean, context?: boolean, redact?: boolean}} options
   * @returns {Promise<{blob: Blob, filename: string}>}
   */
  async exportFile(sid, options) {
    const response = await ServerConnection.makeRequest(this.exportUrl(sid, options), {}, this.settings);
    if (!response.ok) {
      /** @type {any} */
      let data = {};
      try {
        data = await response.json();
      } catch {
        data = {};
      }
      throw new ApiError(response.status, data.message || response.statusText, data.reason || '');
    }
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    const filename = match ? decodeURIComponent(match[1]) : `session.${options.format}`;
    return { blob: await response.blob(), filename };
  }
}
