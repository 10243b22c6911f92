// The agent's plan (opencode's todo list): a checklist named "Plan", each item with its status.
import { h } from "./dom.js";
import "./plan.css";

/**
 * @typedef {{content: string, status: string, priority?: string}} TodoItem
 * @typedef {{kind: "todo", todos: TodoItem[]}} TodoPart
 */

/** @type {Record<string, string>} */
const MARKS = { completed: "\u2611", in_progress: "\u25D0", cancelled: "\u2612", pending: "\u2610" };
/** @type {Record<string, string>} */
const WORDS = { completed: "done", in_progress: "in progress", cancelled: "cancelled", pending: "to do" };

/** @returns {HTMLElement} */
export function planBlock() {
  return h(
    "div",
    { class: "jo-plan", role: "group", "aria-label": "Plan" },
    h("div", { class: "jo-plan-head", text: "Plan" }),
    h("ul", { class: "jo-plan-items" }),
  );
}

/**
 * Show the plan as it now stands (text only: items come from the model).
 * @param {HTMLElement} block
 * @param {TodoItem[]} todos
 */
export function updatePlan(block, todos) {
  const done = todos.filter((t) => t.status === "completed").length;
  /** @type {HTMLElement} */ (block.querySelector(".jo-plan-head")).textContent =
    `Plan (${done}/${todos.length} done)`;
  const items = todos.map((todo) => {
    const status = MARKS[todo.status] ? todo.status : "pending";
    return h(
      "li",
      { class: `jo-plan-item jo-plan-${status}`, "data-status": status },
      h("span", { class: "jo-plan-mark", "aria-hidden": "true", text: MARKS[status] }),
      h("span", { class: "jo-plan-text", text: todo.content }),
      h("span", { class: "jo-plan-status", text: WORDS[status] }),
    );
  });
  /** @type {HTMLElement} */ (block.querySelector(".jo-plan-items")).replaceChildren(...items);
}

/**
 * Put the plan as it now stands first in a message's parts.
 * @param {import("./types.js").Message} message
 * @param {TodoItem[]} todos
 */
export function setPlan(message, todos) {
  const parts = (message.parts ??= []).filter((p) => p.kind !== "todo");
  message.parts = [{ kind: "todo", todos }, ...parts];
}
