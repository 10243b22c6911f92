// "Files changed" under an answer whose edit tools (edit, write, patch) changed files: each file
// with what happened to it and its lines added and removed, its diff on click, and the undo.
import { h } from "./dom.js";
import { undoOffer } from "./undo.js";
import "./filechanges.css";

/**
 * @typedef {{path: string, op: "added" | "modified" | "deleted", additions: number,
 *   deletions: number, diff: string}} FileChange
 * @typedef {{kind: "files", changes: FileChange[], shell: boolean}} FilesPart
 * @typedef {{restored: string[], skipped: {path: string, reason: string}[]}} FileUndoResult
 */

/** DOM event asking the labextension to undo an answer's file changes. */
export const FILE_UNDO_EVENT = "jupyter-opencode:file-undo";
export const UNTRACKED_NOTE = "Changes made by shell commands are not tracked.";

/** @type {import("./undo.js").UndoKind<FileUndoResult>} */
const FILE_UNDO = {
  text: "Undo file changes",
  event: FILE_UNDO_EVENT,
  summary: (done) => {
    const parts = [`Restored ${done.reduce((n, r) => n + r.restored.length, 0)} file(s).`];
    for (const skip of done.flatMap((r) => r.skipped)) parts.push(`${skip.path}: ${skip.reason}.`);
    return parts.join(" ");
  },
};

/** @type {Record<string, string>} */
const LINE_KINDS = { "+": "add", "-": "del", "@": "hunk" };

/**
 * One changed file: a summary line that opens its diff (text only, never markup).
 * @param {FileChange} change
 */
function fileRow(change) {
  const rows = change.diff
    .replace(/\n$/, "")
    .split("\n")
    .filter((line) => !line.startsWith("--- ") && !line.startsWith("+++ "))
    .map((line) =>
      h("div", { class: `jo-nbdiff-line jo-nbdiff-${LINE_KINDS[line[0]] ?? "ctx"}`, text: line || " " }),
    );
  return h(
    "details",
    { class: "jo-file", "data-path": change.path },
    h(
      "summary",
      null,
      h("code", { class: "jo-file-path", text: change.path }),
      h("span", { class: `jo-file-op jo-file-${change.op}`, text: change.op }),
      h("span", { class: "jo-file-add", text: `+${change.additions}` }),
      h("span", { class: "jo-file-del", text: `\u2212${change.deletions}` }),
    ),
    h("div", { class: "jo-nbdiff-body jo-file-diff" }, ...rows),
  );
}

/**
 * "Files changed" (and its undo) under a finished answer; the shell note when it ran commands.
 * @param {import("./types.js").Message} message
 * @param {boolean} live
 * @returns {HTMLElement | null}
 */
export function filesChanged(message, live) {
  const part = /** @type {FilesPart | undefined} */ (
    (message.parts ?? []).find((p) => p.kind === "files")
  );
  if (live || message.role !== "assistant" || !part) return null;
  const note = part.shell ? h("div", { class: "jo-files-note", text: UNTRACKED_NOTE }) : null;
  if (!part.changes.length) return h("div", { class: "jo-files" }, note);
  return h(
    "div",
    { class: "jo-files" },
    h("div", { class: "jo-files-head", text: "Files changed" }),
    ...part.changes.map(fileRow),
    note,
    fileUndoButton(message.session_id, [message.id]),
  );
}

/**
 * "Undo file changes" for these answers (one, or those a rewind removed).
 * @param {string | undefined} sessionId
 * @param {string[]} messageIds
 */
export function fileUndoButton(sessionId, messageIds) {
  return undoOffer(FILE_UNDO, sessionId, messageIds);
}
