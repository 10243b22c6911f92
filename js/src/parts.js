// Reasoning, tool and question blocks, permission prompts and final-status markers of a message.
import { notebookDiff } from "./approval.js";
import { h } from "./dom.js";
import { planBlock, updatePlan } from "./plan.js";
import { questionBlock, questionState } from "./questions.js";

/** @typedef {import("./types.js").Part} Part */
/** @typedef {import("./types.js").ToolPart} ToolPart */
/** @typedef {import("./types.js").Permission} Permission */
/** @typedef {import("./types.js").Message} Message */

const MAX_TOOL_TEXT = 20000;

/**
 * Sync the part blocks inside `container` with `parts`, keeping open/closed state.
 * @param {HTMLElement} container
 * @param {Part[]} parts
 * @param {boolean} [live] whether the message is still streaming (its questions can be answered)
 * @param {import("./questions.js").OnAnswer} [onAnswer]
 */
export function syncParts(container, parts, live = false, onAnswer) {
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of /** @type {HTMLElement[]} */ ([...container.children])) {
    existing.set(child.dataset.key ?? "", child);
  }
  let reasoningIndex = 0;
  /** @type {HTMLElement[]} */
  const wanted = [];
  for (const part of parts) {
    if (part.kind === "question") {
      const key = `q:${part.id}`;
      let block = existing.get(key);
      if (block?.dataset.state !== questionState(part, live)) {
        block = questionBlock(part, live, onAnswer);
        block.dataset.key = key;
      }
      wanted.push(block);
      continue;
    }
    // Shown elsewhere: files below the answer (filechanges.js), usage in the header (usage.js).
    if (part.kind === "files" || part.kind === "usage") continue;
    const key =
      part.kind === "tool" ? `t:${part.call_id}` : part.kind === "reasoning" ? `r:${reasoningIndex++}` : part.kind;
    let block = existing.get(key);
    if (!block) {
      if (part.kind === "tool") block = toolBlock();
      else if (part.kind === "todo") block = planBlock();
      else block = reasoningBlock(part.kind === "compaction" ? "Summary" : "Reasoning");
      block.dataset.key = key;
    }
    if (part.kind === "tool") updateTool(block, part);
    else if (part.kind === "todo") updatePlan(block, part.todos);
    else updateReasoning(block, part.kind === "compaction" ? part.summary : part.text);
    wanted.push(block);
  }
  // Most frames only grow the text: the same blocks in the same order are left in place.
  const children = container.children;
  if (wanted.length !== children.length || wanted.some((block, i) => children[i] !== block)) {
    container.replaceChildren(...wanted);
  }
}

/**
 * A collapsed block of text: the model's reasoning, or the summary of a compaction.
 * @param {string} label
 * @returns {HTMLElement}
 */
function reasoningBlock(label) {
  return h(
    "details",
    { class: "jo-reasoning" },
    h("summary", { text: label }),
    h("div", { class: "jo-reasoning-text" }),
  );
}

/**
 * @param {HTMLElement} block
 * @param {string} text
 */
function updateReasoning(block, text) {
  const body = /** @type {HTMLElement} */ (block.querySelector(".jo-reasoning-text"));
  const shown = body.textContent ?? "";
  if (shown === text) return;
  // Streamed reasoning only grows: append the new text instead of rewriting it all.
  if (text.startsWith(shown) && body.lastChild?.nodeType === Node.TEXT_NODE) {
    /** @type {Text} */ (body.lastChild).appendData(text.slice(shown.length));
  } else {
    body.textContent = text;
  }
}

/** @returns {HTMLElement} */
function toolBlock() {
  return h(
    "details",
    { class: "jo-tool" },
    h(
      "summary",
      null,
      h("span", { class: "jo-tool-name" }),
      h("span", { class: "jo-tool-title" }),
      h("span", { class: "jo-tool-status" }),
    ),
    h("div", { class: "jo-tool-body" }),
  );
}

/**
 * @param {HTMLElement} block
 * @param {ToolPart} tool
 */
function updateTool(block, tool) {
  const status = tool.status || "pending";
  block.className = `jo-tool jo-tool-${status}`;
  setText(block, ".jo-tool-name", tool.name || "tool");
  setText(block, ".jo-tool-title", tool.title ?? "");
  setText(block, ".jo-tool-status", status);
  const body = /** @type {HTMLElement} */ (block.querySelector(".jo-tool-body"));
  const sections = [];
  if (tool.input !== undefined && tool.input !== null) sections.push(section("Input", tool.input));
  if (tool.output !== undefined && tool.output !== null && tool.output !== "") {
    sections.push(section("Output", tool.output));
  }
  if (tool.error) sections.push(section("Error", tool.error, "jo-tool-error"));
  body.replaceChildren(...sections);
}

/**
 * @param {string} label
 * @param {unknown} value
 * @param {string} [extra]
 */
function section(label, value, extra = "") {
  let text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  if (text.length > MAX_TOOL_TEXT) {
    text = `${text.slice(0, MAX_TOOL_TEXT)}\n… (${text.length - MAX_TOOL_TEXT} more characters)`;
  }
  return h(
    "div",
    { class: `jo-tool-section ${extra}` },
    h("div", { class: "jo-tool-label", text: label }),
    h("pre", { class: "jo-tool-pre", text }),
  );
}

/**
 * @param {HTMLElement} root
 * @param {string} selector
 * @param {string} text
 */
function setText(root, selector, text) {
  const el = /** @type {HTMLElement} */ (root.querySelector(selector));
  if (el.textContent !== text) el.textContent = text;
}

const REPLY_TEXT = { once: "Allowed once", always: "Always allowed", reject: "Rejected" };

/**
 * Build a permission prompt; `onReply` is called with the chosen reply.
 * @param {Permission} permission
 * @param {string | undefined} answered reply already given, if any
 * @param {(reply: "once" | "always" | "reject") => void} onReply
 * @returns {HTMLElement}
 */
export function permissionPrompt(permission, answered, onReply) {
  // A notebook change shows its diff instead of opencode's "*" pattern.
  const patterns = permission.notebook ? [] : (permission.patterns ?? []).filter(Boolean);
  const box = h(
    "div",
    { class: "jo-permission", role: "group", "aria-label": "Permission request" },
    h(
      "div",
      { class: "jo-permission-text" },
      "Permission requested: ",
      h("strong", { text: permission.permission || "action" }),
      ...patterns.map((p) => h("code", { class: "jo-permission-pattern", text: p })),
    ),
    permission.notebook && notebookDiff(permission.notebook),
  );
  if (answered) {
    const text = REPLY_TEXT[/** @type {keyof typeof REPLY_TEXT} */ (answered)] ?? answered;
    box.append(h("div", { class: "jo-permission-answer", text }));
    return box;
  }
  /** @type {[string, "once" | "always" | "reject", string][]} */
  const choices = [
    ["Allow once", "once", "jo-btn jo-btn-primary"],
    ["Always", "always", "jo-btn"],
    ["Reject", "reject", "jo-btn jo-btn-danger"],
  ];
  box.append(
    h(
      "div",
      { class: "jo-permission-actions" },
      ...choices.map(([label, reply, cls]) =>
        h("button", { type: "button", class: cls, text: label, onclick: () => onReply(reply) }),
      ),
    ),
  );
  return box;
}

/**
 * The marker shown under a message that did not complete normally, or null.
 * @param {Message} message
 * @returns {HTMLElement | null}
 */
export function statusMarker(message) {
  if (message.status === "error") {
    return h("div", { class: "jo-marker jo-marker-error", role: "note" }, `Error: ${message.error || "unknown error"}`);
  }
  if (message.status === "interrupted") {
    return h("div", { class: "jo-marker", role: "note", text: "Interrupted" });
  }
  if (message.status === "aborted") {
    return h("div", { class: "jo-marker", role: "note", text: "Stopped" });
  }
  return null;
}
