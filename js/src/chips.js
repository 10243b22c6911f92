// Context chips above the input (pending attachments) and the Auto context toggle.
import { h, humanSize } from "./dom.js";

/** @typedef {import("./types.js").Chip} Chip */

/**
 * @typedef {{onRemove: (id: string) => void, onAutoContext: (on: boolean) => void}} ChipsOptions
 */

export class ContextChips {
  /** @param {ChipsOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {string | null} */
    this.previewId = null;
    /** @type {Chip[]} */
    this.chips = [];
    this.list = h("div", { class: "jo-chips", role: "list", "aria-label": "Context" });
    this.preview = h("pre", { class: "jo-chip-preview", hidden: true });
    this.auto = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", class: "jo-auto-input" }));
    this.auto.addEventListener("change", () => options.onAutoContext(this.auto.checked));
    this.el = h(
      "div",
      { class: "jo-context" },
      h(
        "div",
        { class: "jo-context-row" },
        this.list,
        h("label", { class: "jo-auto", title: "Attach the current cell and recent errors automatically" }, this.auto, "Auto context"),
      ),
      this.preview,
    );
  }

  /** @param {boolean} on */
  setAuto(on) {
    this.auto.checked = Boolean(on);
  }

  /** @param {Chip[]} chips */
  setChips(chips) {
    this.chips = chips ?? [];
    if (!this.chips.some((c) => c.id === this.previewId)) this.previewId = null;
    this.list.replaceChildren(...this.chips.map((chip) => this.chip(chip)));
    this.updatePreview();
  }

  /**
   * @param {Chip} chip
   * @returns {HTMLElement}
   */
  chip(chip) {
    const open = chip.id === this.previewId;
    return h(
      "span",
      { class: `jo-chip jo-chip-${chip.kind}`, role: "listitem" },
      h(
        "button",
        {
          type: "button",
          class: "jo-chip-label",
          title: "Show or hide the attached text",
          "aria-expanded": String(open),
          onclick: () => this.toggle(chip.id),
        },
        h("span", { class: "jo-chip-name", text: chip.label }),
        h("span", { class: "jo-chip-size", text: humanSize(chip.size) }),
      ),
      h("button", {
        type: "button",
        class: "jo-chip-remove",
        "aria-label": `Remove ${chip.label}`,
        title: `Remove ${chip.label}`,
        text: "×",
        onclick: () => this.options.onRemove(chip.id),
      }),
    );
  }

  /** @param {string} id */
  toggle(id) {
    this.previewId = this.previewId === id ? null : id;
    this.setChips(this.chips);
  }

  updatePreview() {
    const chip = this.chips.find((c) => c.id === this.previewId);
    this.preview.hidden = !chip;
    this.preview.textContent = chip ? chip.text : "";
  }
}
