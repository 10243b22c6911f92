// @ts-check
/**
 * JupyterLab bridge for the jupyter-opencode Chat widget: inserts code from the
 * chat as a new notebook cell below the cell that holds the widget.
 */
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { activateNotebookTools } from './notebook-tools.js';

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
 * Whether a panel root sits where a widget view renders: the view's node, directly in an output
 * that is not rendered HTML or Markdown (where notebook outputs put their own elements).
 * @param {HTMLElement} root
 * @returns {boolean}
 */
function inWidgetView(root) {
  const view = root.parentElement;
  const output = view?.parentElement;
  return (
    !!view?.classList.contains('lm-Widget') &&
    !!output?.classList.contains('jp-OutputArea-output') &&
    !output.classList.contains('jp-RenderedHTMLCommon')
  );
}

/**
 * Whether an insert request comes from a Chat panel, for code it shows, on a user's click.
 *
 * Page scripts (e.g. a trusted notebook's HTML output) can dispatch DOM events too: the
 * request must come from a panel root inside a widget output, carry code that panel displays
 * as a code block, and arrive while a real user gesture is active.
 * @param {EventTarget | null} target
 * @param {string} code
 * @returns {target is HTMLElement}
 */
function fromPanel(target, code) {
  if (!(target instanceof HTMLElement) || !target.classList.contains('jo-chat')) {
    return false;
  }
  if (!inWidgetView(target) || !navigator.userActivation?.isActive) {
    return false;
  }
  return Array.from(target.querySelectorAll('.jo-code pre > code')).some(
    block => (block.textContent ?? '').replace(/\n$/, '') === code
  );
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
    document.addEventListener(
      INSERT_EVENT,
      event => {
        const detail = /** @type {CustomEvent<InsertDetail>} */ (event).detail;
        const target = event.target;
        if (!detail || typeof detail.code !== 'string' || !fromPanel(target, detail.code)) {
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
