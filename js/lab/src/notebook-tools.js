// @ts-check
/**
 * The agent's changes on open notebooks: tells the server which notebooks this browser has
 * open and applies the changes it sends to their shared models (the user sees them at once,
 * the document becomes dirty, saving stays the user's), runs cells through JupyterLab so the
 * outputs appear, and answers each request with the cell as re-read after the change.
 */
import { NotebookActions } from '@jupyterlab/notebook';

/**
 * @typedef {import('@jupyterlab/notebook').NotebookPanel} NotebookPanel
 * @typedef {import('@jupyterlab/notebook').INotebookTracker} INotebookTracker
 * @typedef {{op: string, cell_id: string, index: number, cell?: any, source?: string,
 *   to?: number}} Change
 * @typedef {{type: string, id: number, action: string, path: string, change?: Change,
 *   cell_id?: string, timeout?: number}} Request
 * @typedef {{session_id?: unknown, message_id?: unknown, result: Promise<any> | null}} UndoDetail
 * @typedef {import('@jupyterlab/services').ServerConnection.ISettings} ServerSettings
 */

const ROUTE = 'opencode/notebook/live';
/** DOM event of the chat panel's "Undo notebook changes" button. */
const UNDO_EVENT = 'jupyter-opencode:notebook-undo';
const FILE_UNDO_EVENT = 'jupyter-opencode:file-undo';
const MAX_RETRY_MS = 10000;

/**
 * @param {NotebookPanel} panel
 * @param {string} id
 */
function indexOf(panel, id) {
  const cells = panel.context.model.sharedModel.cells;
  return cells.findIndex(cell => cell.getId() === id);
}

/**
 * The cell `id` re-read from the shared model.
 * @param {NotebookPanel} panel
 * @param {string} id
 */
function reread(panel, id) {
  const index = indexOf(panel, id);
  const cells = panel.context.model.sharedModel.cells;
  return { index, cell: index >= 0 ? cells[index].toJSON() : null };
}

/**
 * Put back a cell's source, and for code its outputs and execution count (undo).
 * @param {any} cell a shared model cell
 * @param {any} saved the cell as nbformat JSON
 */
function restore(cell, saved) {
  cell.setSource(Array.isArray(saved.source) ? saved.source.join('') : saved.source);
  if (cell.cell_type === 'code') {
    cell.setOutputs(saved.outputs ?? []);
    cell.execution_count = saved.execution_count ?? null;
  }
}

/**
 * @param {NotebookPanel} panel
 * @param {Change} change
 */
function applyChange(panel, change) {
  const shared = panel.context.model.sharedModel;
  if (change.op === 'insert') {
    const index = Math.max(0, Math.min(change.index, shared.cells.length));
    shared.insertCell(index, change.cell);
    return reread(panel, change.cell_id);
  }
  const index = indexOf(panel, change.cell_id);
  if (index < 0) {
    throw new Error(`no cell has the id ${change.cell_id} in the open notebook`);
  }
  if (change.op === 'set_source') {
    shared.cells[index].setSource(change.source ?? '');
  } else if (change.op === 'restore') {
    restore(shared.cells[index], change.cell);
  } else if (change.op === 'delete') {
    shared.deleteCell(index);
  } else if (change.op === 'move') {
    const to = Math.max(0, Math.min(change.to ?? index, shared.cells.length - 1));
    shared.moveCell(index, to);
  } else {
    throw new Error(`unknown change ${change.op}`);
  }
  return reread(panel, change.cell_id);
}

/**
 * Run a code cell as the user would, wait for it (at most `timeout` seconds), re-read it.
 * @param {NotebookPanel} panel
 * @param {string} id
 * @param {number} timeout
 */
async function runCell(panel, id, timeout) {
  await panel.sessionContext.ready;
  if (!panel.sessionContext.session?.kernel) {
    throw new Error('the notebook has no kernel: start one to run cells');
  }
  const index = indexOf(panel, id);
  const cell = panel.content.widgets[index];
  if (!cell) {
    throw new Error(`no cell has the id ${id} in the open notebook`);
  }
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the cell was still running after ${timeout} s`)),
      timeout * 1000
    );
  });
  try {
    await Promise.race([
      NotebookActions.runCells(panel.content, [cell], panel.sessionContext),
      expired
    ]);
  } finally {
    clearTimeout(timer);
  }
  return reread(panel, id);
}

/**
 * @param {INotebookTracker} tracker
 * @param {Request} request
 */
async function perform(tracker, request) {
  const panel = tracker.find(p => p.context.path === request.path);
  if (!panel) {
    throw new Error(`${request.path} is not open in this browser any more`);
  }
  await panel.context.ready;
  if (request.action === 'read') {
    return { cells: panel.context.model.sharedModel.cells.map(cell => cell.toJSON()) };
  }
  if (request.action === 'change' && request.change) {
    return applyChange(panel, request.change);
  }
  if (request.action === 'run' && request.cell_id) {
    return runCell(panel, request.cell_id, request.timeout ?? 60);
  }
  throw new Error(`unknown request ${request.action}`);
}

/**
 * Ask the server to undo an answer's notebook changes (open notebooks change in place) or,
 * with `files/undo`, the files its edit tools changed.
 * @param {ServerSettings} settings
 * @param {string} sessionId
 * @param {string} messageId
 * @param {string} route
 */
async function undoChanges(settings, sessionId, messageId, route) {
  const answer = `opencode/sessions/${encodeURIComponent(sessionId)}/messages/`;
  const url = `${settings.baseUrl}${answer}${encodeURIComponent(messageId)}/${route}`;
  /** @type {Record<string, string>} */
  const headers = { 'Content-Type': 'application/json' };
  if (settings.token) headers.Authorization = `token ${settings.token}`;
  const xsrf = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
  if (xsrf) headers['X-XSRFToken'] = decodeURIComponent(xsrf[1]);
  const response = await window.fetch(url, {
    method: 'POST',
    headers,
    body: '{}',
    credentials: 'same-origin'
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
  return body;
}

/**
 * Keep a socket to the server open (reconnecting with backoff) and serve its requests.
 * @param {import('@jupyterlab/application').JupyterFrontEnd} app
 * @param {INotebookTracker} tracker
 */
export function activateNotebookTools(app, tracker) {
  const settings = app.serviceManager.serverSettings;
  /** @type {WebSocket | null} */
  let socket = null;
  let retry = 500;

  /** @param {any} frame */
  const send = frame => {
    if (socket?.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
    }
  };
  const sendOpen = () => {
    /** @type {string[]} */
    const paths = [];
    tracker.forEach(panel => {
      if (!panel.isDisposed) paths.push(panel.context.path);
    });
    send({ type: 'open', paths });
  };

  /** @param {MessageEvent} event */
  const onMessage = async event => {
    /** @type {Request} */
    const request = JSON.parse(event.data);
    if (request.type !== 'request') return;
    try {
      send({ type: 'reply', id: request.id, result: await perform(tracker, request) });
    } catch (reason) {
      const message = reason instanceof Error ? reason.message : String(reason);
      send({ type: 'reply', id: request.id, error: message });
    }
  };

  const connect = () => {
    let url = settings.wsUrl + ROUTE;
    if (settings.token) url += `?token=${encodeURIComponent(settings.token)}`;
    socket = new WebSocket(url);
    socket.onopen = () => {
      retry = 500;
      sendOpen();
    };
    socket.onmessage = onMessage;
    socket.onclose = () => {
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, MAX_RETRY_MS);
    };
  };

  for (const [name, route] of [
    [UNDO_EVENT, 'notebook-changes'],
    [FILE_UNDO_EVENT, 'files/undo']
  ]) {
    document.addEventListener(name, event => {
      const detail = /** @type {CustomEvent<UndoDetail>} */ (event).detail;
      if (detail && typeof detail.message_id === 'string' && typeof detail.session_id === 'string') {
        detail.result = undoChanges(settings, detail.session_id, detail.message_id, route);
      }
    });
  }
  tracker.widgetAdded.connect((_, panel) => {
    sendOpen();
    panel.context.pathChanged.connect(sendOpen);
    // The tracker forgets a panel only after `disposed` fires: send the list afterwards.
    panel.disposed.connect(() => setTimeout(sendOpen, 0));
  });
  connect();
}
