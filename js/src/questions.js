// The agent's questions to the user (opencode's `question` tool): one button per option, a text
// box "Other answer" when the agent allows one, and the answer given, kept in the transcript.
import { h } from "./dom.js";

/** @typedef {import("./types.js").QuestionPart} QuestionPart */
/** @typedef {import("./types.js").QuestionInfo} QuestionInfo */
/**
 * Sends the user's answer: a list of labels per question, or null to dismiss the question.
 * @typedef {(questionId: string, answers: string[][] | null) => void} OnAnswer
 */

/**
 * What the block shows, as a key: it is rebuilt only when this changes.
 * @param {QuestionPart} part
 * @param {boolean} live
 */
export function questionState(part, live) {
  if (part.rejected) return "rejected";
  if (part.answers) return `answered:${JSON.stringify(part.answers)}`;
  return live ? "open" : "unanswered";
}

/**
 * The block of one question part.
 * @param {QuestionPart} part
 * @param {boolean} live whether the answer is still in progress (the question can be answered)
 * @param {OnAnswer | undefined} onAnswer
 * @returns {HTMLElement}
 */
export function questionBlock(part, live, onAnswer) {
  const state = questionState(part, live);
  const box = h("div", {
    class: `jo-question jo-question-${state.split(":")[0]}`,
    role: "group",
    "aria-label": "Question from the agent",
    "data-state": state,
  });
  if (state !== "open" || !onAnswer) {
    part.questions.forEach((q, i) => box.append(settledItem(q, part, i)));
    if (part.rejected) box.append(h("div", { class: "jo-question-note", text: "Dismissed" }));
    else if (!part.answers) box.append(h("div", { class: "jo-question-note", text: "Not answered" }));
    return box;
  }
  const forms = part.questions.map((q) => openItem(q));
  const send = () => {
    const answers = forms.map((f) => f.answer());
    if (answers.some((a) => !a.length)) {
      note.textContent = "Answer every question first.";
      return;
    }
    for (const button of box.querySelectorAll("button, input")) button.setAttribute("disabled", "");
    note.textContent = "Sending…";
    onAnswer(part.id, answers);
  };
  // One question with one answer: a click on an option is the answer.
  const single = forms.length === 1 && !part.questions[0].multiple;
  forms.forEach((f) => f.onPick(single ? send : () => {}));
  const note = h("div", { class: "jo-question-note", role: "status" });
  const actions = h(
    "div",
    { class: "jo-question-actions" },
    !single && h("button", { type: "button", class: "jo-btn jo-btn-primary", text: "Send answers", onclick: send }),
    h("button", {
      type: "button",
      class: "jo-btn",
      text: "Dismiss",
      onclick: () => {
        for (const button of box.querySelectorAll("button, input")) button.setAttribute("disabled", "");
        onAnswer(part.id, null);
      },
    }),
  );
  box.append(...forms.map((f) => f.el), actions, note);
  return box;
}

/**
 * A question and the answer given.
 * @param {QuestionInfo} question
 * @param {QuestionPart} part
 * @param {number} index
 */
function settledItem(question, part, index) {
  const chosen = part.answers?.[index] ?? [];
  return h(
    "div",
    { class: "jo-question-item" },
    heading(question),
    chosen.length > 0 && h("div", { class: "jo-question-answer" }, "Answer: ", h("strong", { text: chosen.join(", ") })),
  );
}

/** @param {QuestionInfo} question */
function heading(question) {
  return h(
    "div",
    { class: "jo-question-head" },
    question.header && h("span", { class: "jo-question-header", text: question.header }),
    h("span", { class: "jo-question-text", text: question.question }),
  );
}

/**
 * A question still open: option buttons (toggles when several answers are allowed), and the
 * "Other answer" box when the agent allows one.
 * @param {QuestionInfo} question
 */
function openItem(question) {
  /** @type {Set<string>} */
  const picked = new Set();
  let onPick = () => {};
  const buttons = question.options.map((option) => {
    const button = h("button", {
      type: "button",
      class: "jo-btn jo-question-option",
      text: option.label,
      title: option.description || null,
      "aria-pressed": question.multiple ? "false" : null,
      onclick: () => {
        if (question.multiple) {
          if (picked.has(option.label)) picked.delete(option.label);
          else picked.add(option.label);
          button.setAttribute("aria-pressed", String(picked.has(option.label)));
        } else {
          if (other) other.value = "";
          picked.clear();
          picked.add(option.label);
          for (const b of buttons) b.classList.toggle("jo-picked", b === button);
        }
        onPick();
      },
    });
    return button;
  });
  const other = question.custom
    ? /** @type {HTMLInputElement} */ (
        h("input", {
          type: "text",
          class: "jo-question-other",
          placeholder: "Other answer",
          "aria-label": "Other answer",
          onkeydown: (/** @type {KeyboardEvent} */ event) => {
            if (event.key !== "Enter" || !other?.value.trim()) return;
            event.preventDefault();
            if (!question.multiple) picked.clear();
            onPick();
          },
        })
      )
    : null;
  const el = h(
    "div",
    { class: "jo-question-item" },
    heading(question),
    h("div", { class: "jo-question-options" }, ...buttons),
    other,
  );
  return {
    el,
    /** @param {() => void} callback */
    onPick: (callback) => {
      onPick = callback;
    },
    /** @returns {string[]} */
    answer: () => {
      const typed = other?.value.trim();
      if (typed && !question.multiple) return [typed];
      return typed ? [...picked, typed] : [...picked];
    },
  };
}
