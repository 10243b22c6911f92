// @ts-check
/**
 * Notebook context read from the notebook model (no kernel needed): the active cell, the
 * selected cells, and the last error among the outputs, as chips a prompt carries.
 */

/**
 * @typedef {import('@jupyterlab/notebook').NotebookPanel} NotebookPanel
 * @typedef {import('@jupyterlab/cells').Cell} Cell
 * @typedef {{id: string, kind: string, label: string, size: number, text: string}} Chip
 */

const MAX_CHARS = 20000;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
let chipIds = 0;

/**
 * A chip of any kind (a cell, an error, a variable's summary), its text clipped.
 * @param {string} kind
 * @param {string} label
 * @param {string} text
 * @returns {Chip}
 */
export function chip(kind, label, text) {
  const clipped = text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}\n… (truncated)` : text;
  return { id: `ctx-${++chipIds}`, kind, label, size: new Blob([clipped]).size, text: clipped };
}

/**
 * Plain text of one output (stream text, text/plain results, errors).
 * @param {any} output
 * @returns {string}
 */
function outputText(output) {
  if (output.output_type === 'stream') {
    return joined(output.text);
  }
  if (output.output_type === 'error') {
    return errorText(output);
  }
  const data = output.data ?? {};
  return data['text/plain'] ? joined(data['text/plain']) : '';
}

/** @param {unknown} value */
function joined(value) {
  return Array.isArray(value) ? value.join('') : String(value ?? '');
}

/** @param {any} output */
function errorText(output) {
  const trace = (output.traceback ?? []).join('\n').replace(ANSI, '');
  return `${output.ename}: ${output.evalue}\n${trace}`.trim();
}

/**
 * The label of a cell: its execution count, else its position.
 * @param {Cell} cell
 * @param {number} index
 */
export function cellLabel(cell, index) {
  const model = /** @type {any} */ (cell.model);
  const count = model.type === 'code' ? model.executionCount : null;
  return count ? `Cell [${count}]` : `Cell ${index + 1}`;
}

/**
 * An error output and the source of its cell, as two chips.
 * @param {Cell} cell
 * @param {number} index
 * @param {any} error the output, as nbformat JSON
 * @returns {Chip[]}
 */
export function errorChips(cell, index, error) {
  const label = cellLabel(cell, index);
  return [
    chip('error', `Error: ${error.ename}`, errorText(error)),
    chip('cell', `${label} source`, cell.model.sharedModel.getSource())
  ];
}

/**
 * One output of a cell: its text as a chip, and its image (a plot) as an attachment.
 * @param {Cell} cell
 * @param {number} index
 * @param {any} output the output, as nbformat JSON
 * @returns {{chip: Chip, images: ImageAttachment[]}}
 */
export function outputContext(cell, index, output) {
  const image = outputImage(output);
  const label = `${cellLabel(cell, index)} output`;
  const named = image ? `[${image.mime} output, attached as an image]\n` : '';
  const images = image
    ? [{ type: /** @type {'image'} */ ('image'), ...image, name: `${label.replace(/\W+/g, '-')}.${image.mime.split('/')[1]}` }]
    : [];
  return { chip: chip('cell', label, `${named}${outputText(output)}`.trim()), images };
}

/**
 * A notebook cell's source and outputs as one context text.
 * @param {Cell} cell
 * @param {number} index
 * @returns {Chip}
 */
export function cellChip(cell, index) {
  const model = /** @type {any} */ (cell.model);
  const source = model.sharedModel.getSource();
  const label = cellLabel(cell, index);
  const outputs = model.type === 'code' ? model.outputs.toJSON().map(outputText).filter(Boolean) : [];
  const text = outputs.length ? `${source}\n\n# Output:\n${outputs.join('\n')}` : source;
  return chip('cell', label, text);
}

/**
 * @param {NotebookPanel | null} panel
 * @returns {Chip[]}
 */
export function activeCellChips(panel) {
  const notebook = panel?.content;
  if (!notebook?.activeCell) {
    return [];
  }
  return [cellChip(notebook.activeCell, notebook.activeCellIndex)];
}

/**
 * @param {NotebookPanel | null} panel
 * @returns {Chip[]}
 */
export function selectedCellChips(panel) {
  const notebook = panel?.content;
  if (!notebook) {
    return [];
  }
  /** @type {Chip[]} */
  const chips = [];
  notebook.widgets.forEach((cell, index) => {
    if (notebook.isSelectedOrActive(cell)) {
      chips.push(cellChip(cell, index));
    }
  });
  return chips;
}

/**
 * The last error output of the notebook, with the source of its cell.
 * @param {NotebookPanel | null} panel
 * @returns {Chip[]}
 */
export function lastErrorChips(panel) {
  const cells = panel?.content.widgets ?? [];
  for (let i = cells.length - 1; i >= 0; i--) {
    const model = /** @type {any} */ (cells[i].model);
    if (model.type !== 'code') {
      continue;
    }
    const error = model.outputs.toJSON().find((/** @type {any} */ o) => o.output_type === 'error');
    if (error) {
      const source = model.sharedModel.getSource();
      return [chip('error', `Error: ${error.ename}`, `${source}\n\n${errorText(error)}`)];
    }
  }
  return [];
}

/** Image outputs a model can take, in the order a cell's output is searched. */
const OUTPUT_IMAGES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** @typedef {{type: 'image', mime: string, data: string, name: string}} ImageAttachment */

/**
 * The image of one output (nbformat JSON) a model can take, base64, or null.
 * @param {any} output
 * @returns {{mime: string, data: string} | null}
 */
function outputImage(output) {
  const mime = OUTPUT_IMAGES.find(type => typeof output.data?.[type] === 'string');
  return mime ? { mime, data: String(output.data[mime]).replace(/\s/g, '') } : null;
}

/**
 * The image outputs (plots) of the active cell, else of the last cell that has one, as
 * attachments of the composer.
 * @param {NotebookPanel | null} panel
 * @returns {ImageAttachment[]}
 */
export function outputImages(panel) {
  const notebook = panel?.content;
  if (!notebook) {
    return [];
  }
  const cells = notebook.widgets;
  const order = [notebook.activeCellIndex, ...cells.map((_, i) => cells.length - 1 - i)];
  for (const index of order) {
    const model = /** @type {any} */ (cells[index]?.model);
    if (model?.type !== 'code') {
      continue;
    }
    const count = model.executionCount;
    const images = model.outputs
      .toJSON()
      .flatMap((/** @type {any} */ output) => outputImage(output) ?? [])
      .map((/** @type {{mime: string, data: string}} */ image, /** @type {number} */ i) => ({
        type: /** @type {'image'} */ ('image'),
        ...image,
        name: `${count ? `cell-${count}` : `cell-${index + 1}`}-output-${i + 1}.${image.mime.split('/')[1]}`
      }));
    if (images.length) {
      return images;
    }
  }
  return [];
}
