// @ts-check
/**
 * One click from the notebook to the chat: Explain and Fix buttons on every error output,
 * "Ask opencode about this output / cell" in the context menus, and the commands behind them.
 * What they ask goes to the chat through `ask` (the panel shown in that notebook, else a tab).
 */
import { NotebookActions } from '@jupyterlab/notebook';

import { cellChip, cellLabel, errorChips, outputContext } from './sessions/context.js';

/**
 * @typedef {import('@jupyterlab/application').JupyterFrontEnd} JupyterFrontEnd
 * @typedef {import('@jupyterlab/notebook').NotebookPanel} NotebookPanel
 * @typedef {import('@jupyterlab/notebook').INotebookTracker} INotebookTracker
 * @typedef {import('@jupyterlab/apputils').ICommandPalette} ICommandPalette
 * @typedef {import('@jupyterlab/cells').CodeCell} CodeCell
 * @typedef {import('@jupyterlab/cells').Cell} Cell
 * @typedef {import('./sessions/context.js').Chip} Chip
 * @typedef {import('./sessions/context.js').ImageAttachment} ImageAttachment
 * @typedef {(panel: NotebookPanel, context: Chip[], text: string, images?: ImageAttachment[]) => Promise<void>} Ask
 * @typedef {{panel: NotebookPanel, cell: Cell, index: number}} Target
 */

export const OneClickCommands = {
  explain: 'jupyter-opencode:explain-error',
  fix: 'jupyter-opencode:fix-error',
  askOutput: 'jupyter-opencode:ask-output',
  askCell: 'jupyter-opencode:ask-cell'
};

const BAR = 'jo-errbar';
const USED = 'joUsed';

/**
 * What Explain asks.
 * @param {string} label
 */
function explainText(label) {
  return `Why did ${label} fail? Explain the error attached and how to fix it.`;
}

/**
 * What Fix asks (the demo model reads the cell id and path from its first line).
 * @param {string} path
 * @param {string} cellId
 */
export function fixText(path, cellId) {
  return (
    `Fix cell ${cellId} of ${path}: it failed with the error attached.\n` +
    'Correct the source of that cell with the notebook tools (edit_cell on that cell id), ' +
    'keeping what it is meant to do; add no other cell.'
  );
}

/**
 * The chat panel shown in a notebook that the user used last (else the first one), or null.
 * @param {NotebookPanel} panel
 * @returns {HTMLElement | null}
 */
export function panelChat(panel) {
  const chats = /** @type {HTMLElement[]} */ ([...panel.content.node.querySelectorAll('.jo-chat')]);
  const used = (/** @type {HTMLElement} */ el) => Number(el.dataset[USED] ?? 0);
  return chats.sort((a, b) => used(b) - used(a))[0] ?? null;
}

/**
 * The first error output of a cell, as nbformat JSON, or null.
 * @param {Cell} cell
 */
function errorOf(cell) {
  if (cell.model.type !== 'code') return null;
  const outputs = /** @type {CodeCell} */ (cell).model.outputs.toJSON();
  return /** @type {any} */ (outputs.find(o => o.output_type === 'error')) ?? null;
}

/**
 * The cell named by `args` ({path, cell_id}), else the active cell of the current notebook.
 * @param {INotebookTracker} tracker
 * @param {any} args
 * @returns {Target | null}
 */
function target(tracker, args) {
  const panel = typeof args.path === 'string'
    ? tracker.find(p => p.context.path === args.path) ?? null
    : tracker.currentWidget;
  if (!panel) return null;
  const cells = panel.content.widgets;
  const index = typeof args.cell_id === 'string'
    ? cells.findIndex(c => c.model.id === args.cell_id)
    : panel.content.activeCellIndex;
  return cells[index] ? { panel, cell: cells[index], index } : null;
}

/**
 * The cell and output under the node a context menu opened on.
 * @param {INotebookTracker} tracker
 * @param {HTMLElement | undefined} node
 * @returns {(Target & {output: number}) | null}
 */
function hitCell(tracker, node) {
  if (!node) return null;
  const panel = tracker.find(p => p.node.contains(node));
  const cells = panel?.content.widgets ?? [];
  const index = cells.findIndex(c => c.node.contains(node));
  if (!panel || index < 0) return null;
  const cell = cells[index];
  const area = cell.model.type === 'code' ? /** @type {CodeCell} */ (cell).outputArea : null;
  const output = area ? area.widgets.findIndex(w => w.node.contains(node)) : -1;
  return { panel, cell, index, output };
}

/**
 * A small button.
 * @param {string} text
 * @param {string} label its accessible name
 * @param {() => void} onClick
 */
function button(text, label, onClick) {
  const el = document.createElement('button');
  el.type = 'button';
  el.className = 'jo-errbar-btn';
  el.textContent = text;
  el.title = label;
  el.setAttribute('aria-label', label);
  el.addEventListener('click', event => {
    event.stopPropagation();
    onClick();
  });
  return el;
}

/**
 * Put the Explain / Fix bar on each error output of a notebook that has none yet.
 * @param {NotebookPanel} panel
 * @param {(command: string, cellId: string) => void} run
 */
function decorate(panel, run) {
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== 'code') continue;
    const code = /** @type {CodeCell} */ (cell);
    code.outputArea.widgets.forEach((child, i) => {
      const output = code.model.outputs.get(i);
      const node = child.node;
      if (output?.type !== 'error' || node.querySelector(`.${BAR}`)) return;
      const id = cell.model.id;
      const bar = document.createElement('div');
      bar.className = BAR;
      bar.append(
        button('Explain', 'Explain this error (opencode)', () => run(OneClickCommands.explain, id)),
        button('Fix', 'Fix this cell (opencode)', () => run(OneClickCommands.fix, id))
      );
      node.classList.add('jo-has-errbar');
      node.append(bar);
    });
  }
}

/**
 * Offer "Run it" on a cell's error once its source changed (a Fix was allowed).
 * @param {NotebookPanel} panel
 * @param {Cell} cell
 */
function offerRun(panel, cell) {
  const before = cell.model.sharedModel.getSource();
  const changed = () => {
    if (cell.isDisposed || cell.model.sharedModel.getSource() === before) return;
    cell.model.contentChanged.disconnect(changed);
    for (const bar of cell.node.querySelectorAll(`.${BAR}`)) {
      if (bar.querySelector('.jo-errbar-run')) continue;
      const run = button('Run it', 'Run the fixed cell', () => {
        NotebookActions.runCells(panel.content, [cell], panel.sessionContext).catch(reason => {
          console.error('jupyter-opencode: running the fixed cell failed', reason);
        });
      });
      run.classList.add('jo-errbar-run');
      bar.append(run);
    }
  };
  cell.model.contentChanged.connect(changed);
}

/**
 * Watch a notebook's outputs and decorate its errors (after each change of an output area).
 * @param {NotebookPanel} panel
 * @param {(command: string, cellId: string) => void} run
 */
function watchOutputs(panel, run) {
  let scheduled = false;
  const observer = new MutationObserver(mutations => {
    const outputs = mutations.some(m => /** @type {HTMLElement} */ (m.target).closest?.('.jp-OutputArea'));
    if (outputs && !scheduled) {
      scheduled = true;
      requestAnimationFrame(() => {
        scheduled = false;
        decorate(panel, run);
      });
    }
  });
  observer.observe(panel.content.node, { childList: true, subtree: true });
  panel.disposed.connect(() => observer.disconnect());
  void panel.context.ready.then(() => decorate(panel, run));
}

/**
 * Add the buttons, context-menu entries and commands.
 * @param {JupyterFrontEnd} app
 * @param {INotebookTracker} tracker
 * @param {Ask} ask
 * @param {ICommandPalette | null} palette
 */
export function activateOneClick(app, tracker, ask, palette) {
  const { commands } = app;
  // The panel used last is where questions go: remember when each was used.
  for (const type of ['pointerdown', 'focusin']) {
    document.addEventListener(type, event => {
      const chat = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest?.('.jo-chat'));
      if (chat) chat.dataset[USED] = String(Date.now());
    }, true);
  }
  /** @type {(panel: NotebookPanel) => (command: string, cellId: string) => void} */
  const runFor = panel => (command, cellId) => void commands.execute(command, { path: panel.context.path, cell_id: cellId });
  tracker.forEach(panel => watchOutputs(panel, runFor(panel)));
  tracker.widgetAdded.connect((_, panel) => watchOutputs(panel, runFor(panel)));

  /** The cell a command acts on with its error, or null when it has none. */
  const failing = (/** @type {any} */ args) => {
    const found = target(tracker, args);
    const error = found && errorOf(found.cell);
    return found && error ? { ...found, error } : null;
  };
  commands.addCommand(OneClickCommands.explain, {
    label: 'Explain the Error in This Cell (opencode)',
    caption: 'Ask opencode why the cell failed, with its error and source attached',
    isEnabled: args => !!failing(args),
    execute: async args => {
      const found = failing(args);
      if (!found) return;
      const chips = errorChips(found.cell, found.index, found.error);
      await ask(found.panel, chips, explainText(cellLabel(found.cell, found.index)));
    }
  });
  commands.addCommand(OneClickCommands.fix, {
    label: 'Fix the Error in This Cell (opencode)',
    caption: 'Ask opencode for a corrected cell, shown as a change to allow or reject',
    isEnabled: args => !!failing(args),
    execute: async args => {
      const found = failing(args);
      if (!found) return;
      offerRun(found.panel, found.cell);
      const chips = errorChips(found.cell, found.index, found.error);
      await ask(found.panel, chips, fixText(found.panel.context.path, found.cell.model.id));
    }
  });
  commands.addCommand(OneClickCommands.askOutput, {
    label: 'Ask opencode About This Output',
    caption: 'Attach the output under the pointer (else the active cell’s last) to the chat',
    execute: async args => {
      const menu = app.contextMenuHitTest(node => node.classList.contains('jp-OutputArea-child'));
      const pointed = hitCell(tracker, menu);
      const hit = pointed ?? target(tracker, args);
      const outputs = hit?.cell.model.type === 'code' ? /** @type {CodeCell} */ (hit.cell).model.outputs : null;
      if (!hit || !outputs?.length) return;
      const under = pointed?.output ?? -1;
      const index = under >= 0 ? under : outputs.length - 1;
      const { chip, images } = outputContext(hit.cell, hit.index, outputs.get(index).toJSON());
      await ask(hit.panel, [chip], '', images);
    }
  });
  commands.addCommand(OneClickCommands.askCell, {
    label: 'Ask opencode About This Cell',
    caption: 'Attach the cell under the pointer (else the active one) to the chat',
    execute: async args => {
      const menu = app.contextMenuHitTest(node => node.classList.contains('jp-Cell'));
      const hit = hitCell(tracker, menu) ?? target(tracker, args);
      if (hit) await ask(hit.panel, [cellChip(hit.cell, hit.index)], '');
    }
  });
  app.contextMenu.addItem({ command: OneClickCommands.askOutput, selector: '.jp-Notebook .jp-OutputArea-child', rank: 0 });
  app.contextMenu.addItem({ command: OneClickCommands.askCell, selector: '.jp-Notebook .jp-Cell', rank: 0 });
  for (const command of Object.values(OneClickCommands)) {
    palette?.addItem({ command, category: 'opencode' });
  }
}
