// @ts-check
/**
 * JupyterLab bridge for the jupyter-opencode Chat widget: inserts code from the
 * chat as a new notebook cell below the cell that holds the widget, when the widget's
 * kernel asks for it.
 */
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { BRIDGE_ATTRIBUTE } from '@jupyter-opencode/chat/codeblocks.js';
import { activateNotebookTools } from './notebook-tools.js';

import { sessionsPlugin } from './sessions/plugin.js';

/** Command inserting a code cell below the current notebook's active cell. */
export const INSERT_COMMAND = 'jupyter-opencode:insert-cell-below';

const WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json';
/** How many sent message ids of one kernel connection are remembered. */
const SENT_IDS_KEPT = 500;

/**
 * @typedef {import('@jupyterlab/notebook').NotebookPanel} NotebookPanel
 * @typedef {import('@jupyterlab/apputils').ISessionContext} ISessionContext
 * @typedef {import('@jupyterlab/services').Kernel.IKernelConnection} IKernelConnection
 * @typedef {import('@jupyterlab/services').KernelMessage.IMessage} IMessage
 * @typedef {{commId: string, code: string, run: boolean}} InsertRequest
 */

/**
 * The Chat widget's request to insert a cell, from a kernel's iopub message.
 *
 * The kernel sends it (a custom widget message) with code from its own conversation, when the
 * panel's "Insert as cell" asked, or when kernel code called `chat.insert_cell`.
 * @param {IMessage} msg
 * @returns {InsertRequest | null}
 */
function insertRequest(msg) {
  if (msg.header.msg_type !== 'comm_msg') {
    return null;
  }
  const content = /** @type {any} */ (msg.content);
  const custom = content.data?.method === 'custom' ? content.data.content : null;
  if (custom?.type !== 'insert-cell' || typeof custom.code !== 'string') {
    return null;
  }
  return { commId: String(content.comm_id), code: custom.code, run: custom.run === true };
}

/**
 * The index of the first cell whose outputs show the widget of model `commId`, or -1.
 * @param {NotebookPanel} panel
 * @param {string} commId
 * @returns {number}
 */
function widgetCell(panel, commId) {
  const cells = panel.content.model?.cells;
  if (!cells) {
    return -1;
  }
  for (let index = 0; index < cells.length; index++) {
    const outputs = /** @type {any} */ (cells.get(index)).outputs;
    for (let i = 0; i < (outputs?.length ?? 0); i++) {
      const view = outputs.get(i).data[WIDGET_VIEW_MIME];
      if (view && view.model_id === commId) {
        return index;
      }
    }
  }
  return -1;
}

/**
 * Listen to the kernel of a notebook's session (again after a kernel change) for insert
 * requests answering messages this page sent: another page on the same kernel inserts its own.
 * @param {INotebookTracker} tracker
 * @param {ISessionContext} session
 */
function watchSession(tracker, session) {
  /** @type {IKernelConnection | null} */
  let kernel = null;
  /** @type {Set<string>} */
  const sent = new Set();
  /** @param {unknown} _ @param {{msg: IMessage, direction: string}} args */
  const onMessage = (_, { msg, direction }) => {
    if (direction === 'send') {
      sent.add(msg.header.msg_id);
      if (sent.size > SENT_IDS_KEPT) {
        sent.delete(sent.values().next().value ?? '');
      }
      return;
    }
    const parent = /** @type {{msg_id?: string}} */ (msg.parent_header).msg_id;
    const request = parent && sent.has(parent) ? insertRequest(msg) : null;
    if (request) {
      insertForWidget(tracker, session, request);
    }
  };
  const attach = () => {
    kernel?.anyMessage.disconnect(onMessage);
    kernel = session.session?.kernel ?? null;
    kernel?.anyMessage.connect(onMessage);
    sent.clear();
  };
  session.kernelChanged.connect(attach);
  session.disposed.connect(() => kernel?.anyMessage.disconnect(onMessage));
  attach();
}

/**
 * Insert the requested code below the cell showing the requesting Chat widget.
 * @param {INotebookTracker} tracker
 * @param {ISessionContext} session
 * @param {InsertRequest} request
 */
function insertForWidget(tracker, session, request) {
  /** @type {NotebookPanel[]} */
  const panels = [];
  tracker.forEach(panel => {
    if (panel.sessionContext === session) {
      panels.push(panel);
    }
  });
  // Several views of one notebook share its session and model: insert once, in the current one.
  const panel = panels.find(p => p === tracker.currentWidget) ?? panels[0];
  const index = panel ? widgetCell(panel, request.commId) : -1;
  if (panel && index >= 0) {
    insertBelow(panel, index, request.code, request.run);
  }
}

/**
 * Insert a code cell holding `code` right after cell `index`, make it active, and run it if asked.
 * Returns false when the notebook has no model; the insertion itself is synchronous.
 * @param {NotebookPanel} panel
 * @param {number} index
 * @param {string} code
 * @param {boolean} run
 * @returns {boolean}
 */
function insertBelow(panel, index, code, run) {
  const notebook = panel.content;
  const model = notebook.model;
  if (!model) {
    return false;
  }
  const newIndex = index + 1;
  model.sharedModel.insertCell(newIndex, {
    cell_type: 'code',
    source: code,
    // Model-written code: untrusted, like any cell that did not come from the user's keyboard.
    metadata: { trusted: false }
  });
  notebook.activeCellIndex = newIndex;
  notebook.deselectAll();
  const cell = notebook.widgets[newIndex];
  notebook.scrollToCell(cell).catch(reason => {
    console.warn('jupyter-opencode: could not scroll to the new cell', reason);
  });
  if (run) {
    NotebookActions.runCells(notebook, [cell], panel.sessionContext).catch(reason => {
      console.error('jupyter-opencode: running the inserted cell failed', reason);
    });
  }
  return true;
}

/** @type {import('@jupyterlab/application').JupyterFrontEndPlugin<void>} */
const plugin = {
  id: 'jupyter-opencode:plugin',
  description: 'Insert code from the opencode chat as a notebook cell.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app, /** @type {INotebookTracker} */ tracker) => {
    activateNotebookTools(app, tracker);
    /** @type {WeakSet<ISessionContext>} */
    const watched = new WeakSet();
    /** @param {NotebookPanel} panel */
    const watch = panel => {
      if (!watched.has(panel.sessionContext)) {
        watched.add(panel.sessionContext);
        watchSession(tracker, panel.sessionContext);
      }
    };
    tracker.forEach(watch);
    tracker.widgetAdded.connect((_, panel) => watch(panel));
    // Tells Chat panels that "Insert as cell" goes through their kernel to this bridge.
    document.body.setAttribute(BRIDGE_ATTRIBUTE, 'kernel');

    app.commands.addCommand(INSERT_COMMAND, {
      label: 'Insert Code Cell Below (opencode)',
      caption: 'Insert a code cell below the active cell, optionally running it',
      isEnabled: () => !!tracker.currentWidget?.content.activeCell,
      execute: args => {
        const panel = tracker.currentWidget;
        if (!panel || !panel.content.activeCell) {
          return false;
        }
        const code = typeof args.code === 'string' ? args.code : '';
        return insertBelow(panel, panel.content.activeCellIndex, code, args.run === true);
      }
    });
  }
};

export default [plugin, sessionsPlugin];
