// The context window in the header: "N% of context" (tokens and cost on hover), and "Compact".
import { h } from "./dom.js";
import "./usage.css";

/**
 * @typedef {{tokens: number, limit: number, cost: number}} Usage
 * @typedef {{kind: "usage"} & Usage} UsagePart
 * @typedef {{kind: "compaction", summary: string}} CompactionPart
 */

/**
 * The context window as of the newest message that says (an answer, or a compaction).
 * @param {import("./types.js").Message[]} messages
 * @returns {Usage | null}
 */
export function latestUsage(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    const part = (messages[i].parts ?? []).find((p) => p.kind === "usage");
    if (part) return /** @type {UsagePart} */ (part);
  }
  return null;
}

/**
 * Put a usage chunk's figures in the message's parts (the last one wins).
 * @param {import("./types.js").Message} message
 * @param {Usage} usage
 */
export function setUsage(message, usage) {
  const parts = (message.parts ??= []).filter((p) => p.kind !== "usage");
  message.parts = [...parts, { kind: "usage", ...usage }];
}

export class ContextGauge {
  /** @param {() => void} onCompact */
  constructor(onCompact) {
    this.bar = h("span", { class: "jo-gauge-fill" });
    this.label = h("span", { class: "jo-gauge-text" });
    this.meter = h(
      "span",
      { class: "jo-gauge", role: "meter", "aria-label": "Context", "aria-valuemin": "0", "aria-valuemax": "100" },
      h("span", { class: "jo-gauge-track" }, this.bar),
      this.label,
    );
    this.button = h("button", {
      type: "button",
      class: "jo-btn",
      text: "Compact",
      title: "Summarize the conversation so far; later prompts go on from the summary",
      onclick: onCompact,
    });
    this.el = h("span", { class: "jo-context", hidden: true }, this.meter, this.button);
    /** What the gauge shows ("": hidden); it is set on every frame, the page changes only with it. */
    this.shown = "";
  }

  /** @param {Usage | null} usage */
  set(usage) {
    const shown = usage ? `${usage.tokens} ${usage.limit} ${usage.cost}` : "";
    if (shown === this.shown) return;
    this.shown = shown;
    this.el.hidden = !usage;
    if (!usage) return;
    const tokens = usage.tokens.toLocaleString("en-US");
    const cost = `cost $${usage.cost.toFixed(4)}`;
    if (usage.limit > 0) {
      const percent = Math.min(100, Math.round((100 * usage.tokens) / usage.limit));
      this.label.textContent = `${percent}% of context`;
      this.meter.title = `${tokens} of ${usage.limit.toLocaleString("en-US")} tokens · ${cost}`;
      this.meter.setAttribute("aria-valuenow", String(percent));
      this.bar.style.width = `${percent}%`;
      this.meter.classList.toggle("jo-gauge-high", percent >= 80);
    } else {
      this.label.textContent = `${tokens} tokens`;
      this.meter.title = `${tokens} tokens (the model's context limit is unknown) · ${cost}`;
      this.bar.style.width = "0";
    }
  }

  /** @param {boolean} busy */
  setBusy(busy) {
    this.button.toggleAttribute("disabled", busy);
  }
}
