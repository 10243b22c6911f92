// The per-cell diff shown in a permission prompt of a notebook tool (edit, insert, run...).
import { h } from "./dom.js";
import { undoOffer } from "./undo.js";
import "./approval.css";

/**
 * @typedef {{tool: string, op?: string, path: string, index: number, to?: number | null,
 *   cell_id?: string, cell_type?: string | null, before?: string | null, after?: string | null,
 *   live?: boolean, error?: string}} NotebookChange
 */

// Past this many lines on a side, the diff shows both versions whole instead of aligning them.
const MAX_DIFF_LINES = 400;

/**
 * What the change does, in words.
 * @param {NotebookChange} c
 */
function title(c) {
  if (c.tool === "insert_cell") return `Insert a ${c.cell_type || "code"} cell at ${c.index}`;
  if (c.tool === "edit_cell") return `Edit cell ${c.index}`;
  if (c.tool === "delete_cell") return `Delete cell ${c.index}`;
  if (c.tool === "move_cell") return `Move cell ${c.index} to ${c.to}`;
  if (c.tool === "run_cell") return `Run cell ${c.index}`;
  return c.tool;
}

/**
 * Lines removed ("-"), added ("+") and kept (" "), by longest common subsequence.
 * @param {string[]} a
 * @param {string[]} b
 * @returns {[string, string][]}
 */
export function lineDiff(a, b) {
  /** @type {[string, string][]} */
  const out = [];
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES) {
    for (const line of a) out.push(["-", line]);
    for (const line of b) out.push(["+", line]);
    return out;
  }
  const rows = a.length + 1;
  const cols = b.length + 1;
  const lcs = new Uint16Array(rows * cols);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * cols + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * cols + j + 1] + 1
          : Math.max(lcs[(i + 1) * cols + j], lcs[i * cols + j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push([" ", a[i++]]);
      j++;
    } else if (lcs[(i + 1) * cols + j] >= lcs[i * cols + j + 1]) out.push(["-", a[i++]]);
    else out.push(["+", b[j++]]);
  }
  while (i < a.length) out.push(["-", a[i++]]);
  while (j < b.length) out.push(["+", b[j++]]);
  return out;
}

/** @type {Record<string, string>} */
const KINDS = { "+": "add", "-": "del", " ": "ctx" };

/** @param {string | null | undefined} text */
const lines = (text) => (text == null ? [] : text.split("\n"));

/**
 * The body of the diff: a run or a move shows the code; other changes before and after.
 * @param {NotebookChange} change
 * @returns {[string, string][]}
 */
function diffRows(change) {
  if (change.tool === "run_cell" || change.tool === "move_cell") {
    return lines(change.before ?? change.after).map((l) => [" ", l]);
  }
  return lineDiff(lines(change.before), lines(change.after));
}

/**
 * The diff block of a notebook permission prompt; text only, never markup from the notebook.
 * @param {NotebookChange} change
 * @returns {HTMLElement}
 */
export function notebookDiff(change) {
  const where = change.live ? "open notebook, unsaved until you save" : "notebook file";
  const head = h(
    "div",
    { class: "jo-nbdiff-head" },
    h("strong", { text: title(change) }),
    " of ",
    h("code", { text: change.path }),
    h("span", { class: "jo-nbdiff-where", text: ` (${where})` }),
  );
  if (change.error) {
    const error = h("div", { class: "jo-nbdiff-error", text: change.error });
    return h("div", { class: "jo-nbdiff" }, head, error);
  }
  const rows = diffRows(change).map(([mark, text]) =>
    h(
      "div",
      { class: `jo-nbdiff-line jo-nbdiff-${KINDS[mark]}` },
      h("span", { class: "jo-nbdiff-mark", text: mark }),
      h("span", { class: "jo-nbdiff-text", text: text || " " }),
    ),
  );
  const body = h("div", { class: "jo-nbdiff-body" }, ...rows);
  return h("div", { class: "jo-nbdiff", "data-tool": change.tool }, head, body);
}

/** DOM event asking the labextension to undo an answer's notebook changes. */
export const UNDO_EVENT = "jupyter-opencode:notebook-undo";
const CHANGING_TOOLS = new Set([
  "jupyter_insert_cell",
  "jupyter_edit_cell",
  "jupyter_delete_cell",
  "jupyter_move_cell",
]);
/**
 * @typedef {{restored: {path: string, cell_id: string}[],
 *   skipped: {path: string, cell_id: string, reason: string}[]}} UndoResult
 */

/**
 * What an undo did, in words.
 * @param {UndoResult} result
 */
export function undoSummary(result) {
  const parts = [`Restored ${result.restored.length} cell change(s).`];
  for (const skip of result.skipped) {
    parts.push(`Cell ${skip.cell_id} of ${skip.path}: ${skip.reason}.`);
  }
  return parts.join(" ");
}

/** @type {import("./undo.js").UndoKind<UndoResult>} */
const NOTEBOOK_UNDO = {
  text: "Undo notebook changes",
  event: UNDO_EVENT,
  summary: (done) =>
    undoSummary({
      restored: done.flatMap((r) => r.restored),
      skipped: done.flatMap((r) => r.skipped),
    }),
};

/**
 * "Undo notebook changes" under a finished answer whose notebook tools changed cells.
 * @param {import("./types.js").Message} message
 * @param {boolean} live
 * @returns {HTMLElement | null}
 */
export function undoNotebookChanges(message, live) {
  const changed = (message.parts ?? []).some(
    (p) => p.kind === "tool" && p.status === "completed" && CHANGING_TOOLS.has(p.name),
  );
  if (live || message.role !== "assistant" || !changed) return null;
  return undoButton(message.session_id, [message.id]);
}

/**
 * "Undo notebook changes" for these answers (one, or those a rewind removed).
 * @param {string | undefined} sessionId
 * @param {string[]} messageIds
 * @returns {HTMLElement}
 */
export function undoButton(sessionId, messageIds) {
  return undoOffer(NOTEBOOK_UNDO, sessionId, messageIds);
}
