// @ts-check
/**
 * One WebSocket to `opencode/stream` for the whole page, shared by every conversation tab:
 * subscriptions are replayed from each session's last seq after a reconnect.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * @typedef {import('@jupyter-opencode/chat/protocol.js').ServerFrame} ServerFrame
 * @typedef {import('@jupyter-opencode/chat/protocol.js').ClientFrame} ClientFrame
 * @typedef {{onFrame: (frame: ServerFrame) => void, lastSeq: () => number,
 *   onState: (state: string, error: string) => void}} Subscriber
 */

const MAX_DELAY_MS = 10000;
/** Failed connections in a row before giving up until the user asks again (Retry). */
const MAX_TRIES = 5;

export class StreamConnection {
  /** @param {ServerConnection.ISettings} [settings] */
  constructor(settings) {
    this.settings = settings ?? ServerConnection.makeSettings();
    /** @type {Map<string, Set<Subscriber>>} */
    this.subscribers = new Map();
    /** @type {WebSocket | null} */
    this.socket = null;
    this.state = 'offline';
    this.error = '';
    this.delay = 250;
    this.failures = 0;
    this.timer = 0;
    this.disposed = false;
    /** @type {Map<object, number>} the cadence (ms) each view shows streamed text at */
    this.cadences = new Map();
    /** @type {number | null} the cadence the server was last asked for on this socket */
    this.sentCadence = null;
  }

  /**
   * How often a view shows streamed text (ms; null: the view is gone). The socket asks for the
   * fastest of its views': text sent more often than any of them shows it only costs the page.
   * @param {object} view
   * @param {number | null} ms
   */
  setCadence(view, ms) {
    if (ms === null) {
      this.cadences.delete(view);
    } else {
      this.cadences.set(view, ms);
    }
    this.sendCadence();
  }

  sendCadence() {
    const ms = this.cadences.size ? Math.min(...this.cadences.values()) : null;
    if (ms !== null && ms !== this.sentCadence && this.send({ type: 'cadence', cadence_ms: ms })) {
      this.sentCadence = ms;
    }
  }

  /** Connect again at once after giving up (the banner's Retry). */
  retry() {
    if (this.disposed || this.socket) {
      return;
    }
    clearTimeout(this.timer);
    this.failures = 0;
    this.delay = 250;
    this.ensureOpen();
  }

  /**
   * Follow a session: `subscriber` gets its frames after `lastSeq()`, now and after reconnects.
   * @param {string} sid
   * @param {Subscriber} subscriber
   * @returns {() => void} unsubscribe
   */
  subscribe(sid, subscriber) {
    let subs = this.subscribers.get(sid);
    if (!subs) {
      subs = new Set();
      this.subscribers.set(sid, subs);
    }
    subs.add(subscriber);
    subscriber.onState(this.state, this.error);
    this.ensureOpen();
    this.sendSubscribe(sid, subscriber.lastSeq());
    return () => {
      const set = this.subscribers.get(sid);
      set?.delete(subscriber);
      if (set && set.size === 0) {
        this.subscribers.delete(sid);
        this.send({ type: 'unsubscribe', session_id: sid });
      }
    };
  }

  /**
   * Send a frame now, or drop it with false when the socket is not open.
   * @param {ClientFrame} frame
   * @returns {boolean}
   */
  send(frame) {
    if (this.socket?.readyState !== WebSocket.OPEN) {
      return false;
    }
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * @param {string} sid
   * @param {number} afterSeq
   */
  sendSubscribe(sid, afterSeq) {
    this.send({ type: 'subscribe', session_id: sid, after_seq: afterSeq });
  }

  ensureOpen() {
    if (this.disposed || this.socket) {
      return;
    }
    let url = URLExt.join(this.settings.wsUrl, 'opencode', 'stream');
    if (this.settings.token) {
      url += `?token=${encodeURIComponent(this.settings.token)}`;
    }
    this.setState(this.state === 'connected' ? 'reconnecting' : 'connecting', '');
    const socket = new this.settings.WebSocket(url);
    this.socket = socket;
    socket.onmessage = event => this.onMessage(String(event.data));
    socket.onclose = event => {
      if (this.socket !== socket) {
        return;
      }
      this.socket = null;
      if (this.disposed) {
        return;
      }
      this.failures += 1;
      if (this.failures >= MAX_TRIES) {
        const reason = event.reason || 'the Jupyter server cannot be reached';
        this.setState('disconnected', `${reason} (gave up after ${this.failures} tries)`);
        return;
      }
      this.setState('reconnecting', event.reason || '');
      this.timer = window.setTimeout(() => this.ensureOpen(), this.delay);
      this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    };
  }

  /** @param {string} data */
  onMessage(data) {
    /** @type {any} */
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === 'connected') {
      this.delay = 250;
      this.failures = 0;
      this.setState('connected', '');
      this.sentCadence = null;
      this.sendCadence();
      for (const [sid, subs] of this.subscribers) {
        const seq = Math.min(...[...subs].map(s => s.lastSeq()));
        this.sendSubscribe(sid, seq);
      }
      return;
    }
    if (frame.type === 'error') {
      console.warn('jupyter-opencode: the stream refused a frame:', frame.message);
      return;
    }
    for (const sub of this.subscribers.get(frame.session_id) ?? []) {
      sub.onFrame(frame);
    }
  }

  /**
   * @param {string} state
   * @param {string} error
   */
  setState(state, error) {
    this.state = state;
    this.error = error;
    for (const subs of this.subscribers.values()) {
      for (const sub of subs) {
        sub.onState(state, error);
      }
    }
  }

  dispose() {
    this.disposed = true;
    clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
  }
}
