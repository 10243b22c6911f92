// @ts-check
/**
 * The @ menu's variables in a tab: asked of the kernel of the current notebook (if it has one),
 * by silent executions that bind no name; the same summaries as the panel's (kernel/context.py).
 */

/**
 * @typedef {import('@jupyterlab/notebook').NotebookPanel} NotebookPanel
 * @typedef {{name: string, type: string, shape?: string}} Variable
 */

/** A kernel busy running a cell answers after it: the menu does not wait that long. */
const ANSWER_MS = 3000;
const MODULE = "__import__('jupyter_opencode.kernel.{0}', fromlist=['_'])";
const LIST = `print(__import__('json').dumps(${MODULE.replace('{0}', 'variables')}.list_variables(get_ipython().user_ns)))`;

/**
 * What a silent execution printed, as JSON; null without a kernel, on an error or too late.
 * @param {NotebookPanel | null} panel
 * @param {string} code
 * @returns {Promise<any>}
 */
async function kernelJson(panel, code) {
  const kernel = panel?.sessionContext.session?.kernel;
  if (!kernel) {
    return null;
  }
  let printed = '';
  const future = kernel.requestExecute({ code, silent: true, store_history: false });
  future.onIOPub = msg => {
    if (msg.header.msg_type === 'stream') {
      printed += /** @type {any} */ (msg.content).text;
    }
  };
  const late = new Promise(resolve => setTimeout(() => resolve(null), ANSWER_MS));
  const reply = await Promise.race([future.done, late]);
  if (!reply || /** @type {any} */ (reply).content.status !== 'ok') {
    return null;
  }
  try {
    return JSON.parse(printed.trim().split('\n').pop() ?? '');
  } catch {
    return null;
  }
}

/**
 * The data variables of the notebook's kernel ([] without one).
 * @param {NotebookPanel | null} panel
 * @returns {Promise<Variable[]>}
 */
export async function listVariables(panel) {
  return (await kernelJson(panel, LIST)) ?? [];
}

/**
 * A variable's summary (kind, label, text), or null.
 * @param {NotebookPanel | null} panel
 * @param {string} name
 * @returns {Promise<[string, string, string] | null>}
 */
export async function describeVariable(panel, name) {
  const literal = JSON.stringify(name);
  const code = `print(__import__('json').dumps(${MODULE.replace('{0}', 'context')}.describe(get_ipython().user_ns[${literal}], ${literal})))`;
  return kernelJson(panel, code);
}
