// @ts-check
/** Dialog bodies of the session actions (export options). */
import { Widget } from '@lumino/widgets';

import { h } from '@jupyter-opencode/chat/dom.js';

/** Formats of `GET sessions/{sid}/export`, with their labels. */
export const EXPORT_FORMATS = [
  ['md', 'Markdown'],
  ['html', 'HTML'],
  ['pdf', 'PDF'],
  ['docx', 'Word (DOCX)'],
  ['ipynb', 'Notebook (.ipynb)'],
  ['json', 'JSON'],
  ['txt', 'Plain text']
];

/**
 * @typedef {{format: string, timestamps: boolean, context: boolean, redact: boolean}} ExportOptions
 */

/** The export dialog's body: a format and three options. */
export class ExportBody extends Widget {
  /** @param {string} format the preselected format */
  constructor(format) {
    super();
    this.addClass('jo-export');
    this.format = /** @type {HTMLSelectElement} */ (
      h('select', { class: 'jo-export-format', 'aria-label': 'Format' },
        ...EXPORT_FORMATS.map(([value, label]) => h('option', { value, text: label })))
    );
    this.format.value = EXPORT_FORMATS.some(([v]) => v === format) ? format : 'md';
    this.timestamps = this.option('Timestamps', true);
    this.context = this.option('Attached context', false);
    this.redact = this.option('Redact secrets', true);
    this.node.append(
      h('label', { class: 'jo-export-row' }, 'Format ', this.format),
      /** @type {HTMLElement} */ (this.timestamps.parentElement),
      /** @type {HTMLElement} */ (this.context.parentElement),
      /** @type {HTMLElement} */ (this.redact.parentElement)
    );
  }

  /**
   * @param {string} label
   * @param {boolean} checked
   */
  option(label, checked) {
    const box = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox' }));
    box.checked = checked;
    h('label', { class: 'jo-export-row' }, box, ` ${label}`);
    return box;
  }

  /** @returns {ExportOptions} */
  getValue() {
    return {
      format: this.format.value,
      timestamps: this.timestamps.checked,
      context: this.context.checked,
      redact: this.redact.checked
    };
  }
}
