// @ts-check
/**
 * JupyterLab bridge for the jupyter-opencode Chat widget: inserts code from the
 * chat as a new notebook cell below the cell that holds the widget.
 */
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';

import { sessionsPlugin } from './sessions/plugin.js';

/** DOM event the Chat widget dispatches (bubbles, composed) on its root element. */
export const INSERT_EVENT = 'jupyter-opencode:insert-cell';

/** Command inserting a code cell below the current notebook's active cell. */
export const INSERT_COMMAND = 'jupyter-opencode:insert-cell-below';

/**
 * @typedef {import('@jupyterlab/notebook').NotebookPanel} NotebookPanel
 * @typedef {{code?: unknown, run?: unknown, handled?: boolean}} InsertDetail
 */

/**
 * Find the notebook panel and the index of the cell whose DOM node contains `target`.
 * @param {INotebookTracker} tracker
 * @param {Node} target
 * @returns {{panel: NotebookPanel, index: number} | null}
 */
function findCell(tracker, target) {
  /** @type {{panel: NotebookPanel, index: number} | null} */
  let found = null;
  tracker.find(panel => {
    if (!panel.content.node.contains(target)) {
      return false;
    }
    const index = panel.content.widgets.findIndex(cell => cell.node.contains(target));
    if (index >= 0) {
      found = { panel, index };
    }
    return index >= 0;
  });
  return found;
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
    // Created on the user's explicit request, like a cell they typed themselves.
    metadata: { trusted: true }
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
    document.addEventListener(
      INSERT_EVENT,
      event => {
        const detail = /** @type {CustomEvent<InsertDetail>} */ (event).detail;
        const target = event.target;
        if (!detail || typeof detail.code !== 'string' || !(target instanceof Node)) {
          return;
        }
        const hit = findCell(tracker, target);
        if (hit && insertBelow(hit.panel, hit.index, detail.code, detail.run === true)) {
          detail.handled = true;
        }
      },
      true
    );

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
