// The `@` menu of the composer: typing `@` and a few letters lists matches from every source the
// host offers (files and folders under the root; the kernel's variables), filtered as you type.
// Arrow keys move, Enter or Tab pick, Escape closes; a pick replaces the `@word` with `@name `.
import { h } from "./dom.js";

/**
 * One entry of the menu. `kind` is the source's kind of thing ("file", "folder", "variable").
 * @typedef {{kind: string, label: string, detail?: string, value: string, size?: number,
 *   dim?: boolean}} MentionItem
 * A source of entries (another kind, e.g. subagents, is one more source).
 * @typedef {{kind: string, find: (query: string) => Promise<MentionItem[]>}} MentionSource
 */

const MAX_ITEMS = 12;
// An `@` at the start or after a space, then the word being typed (no spaces).
const MENTION = /(?:^|\s)@([^\s@]*)$/;
let menuIds = 0;

export class MentionMenu {
  /**
   * @param {HTMLTextAreaElement} input
   * @param {{sources: () => MentionSource[], onPick: (item: MentionItem) => void}} options
   */
  constructor(input, options) {
    this.input = input;
    this.options = options;
    /** @type {MentionItem[]} */
    this.items = [];
    this.active = 0;
    // Whether the arrow keys moved the highlight since the last keystroke: answers that come
    // later keep it on the same item.
    this.navigated = false;
    this.query = "";
    this.asked = 0;
    this.id = `jo-mention-${++menuIds}`;
    this.el = h("ul", { class: "jo-slash jo-mentions", id: this.id, role: "listbox", "aria-label": "Mentions", hidden: true });
    // Registered before the composer's own keydown: a key the menu uses goes no further.
    input.addEventListener("keydown", (ev) => this.onKeyDown(ev));
    input.addEventListener("input", () => {
      this.navigated = false;
      void this.update();
    });
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    this.el.addEventListener("mousedown", (ev) => {
      const item = /** @type {HTMLElement} */ (ev.target).closest("li");
      if (!item) return;
      ev.preventDefault();
      this.pick(Number(item.dataset.index));
    });
  }

  get open() {
    return !this.el.hidden;
  }

  /** The word after an `@` before the caret, or null. */
  typed() {
    const before = this.input.value.slice(0, this.input.selectionStart ?? this.input.value.length);
    const match = MENTION.exec(before);
    return match ? match[1] : null;
  }

  /** Ask every source about what is typed now; show the answers of the latest keystroke. */
  async update() {
    const query = this.typed();
    const sources = this.options.sources();
    if (query === null || !sources.length) {
      this.close();
      return;
    }
    const asked = ++this.asked;
    this.query = query;
    const found = await Promise.all(sources.map((s) => s.find(query).catch(() => [])));
    if (asked !== this.asked) return; // a later keystroke has asked again
    this.show(found.flat().slice(0, MAX_ITEMS));
  }

  /** @param {MentionItem[]} items */
  show(items) {
    const held = this.navigated ? this.items[this.active] : undefined;
    this.items = items;
    if (!items.length) {
      this.el.replaceChildren(h("li", { class: "jo-slash-item jo-mention-none", text: "No match" }));
    } else {
      this.el.replaceChildren(
        ...items.map((item, i) =>
          h(
            "li",
            {
              id: `${this.id}-${i}`,
              role: "option",
              "data-index": i,
              "data-kind": item.kind,
              class: `jo-slash-item jo-mention-${item.kind}${item.dim ? " jo-mention-dim" : ""}`,
            },
            h("span", { class: "jo-slash-name", text: item.label }),
            h("span", { class: "jo-slash-help", text: item.detail ?? item.kind }),
          ),
        ),
      );
    }
    this.el.hidden = false;
    this.input.setAttribute("aria-controls", this.id);
    this.input.setAttribute("aria-expanded", "true");
    const kept = held ? items.findIndex((i) => i.kind === held.kind && i.label === held.label) : -1;
    this.setActive(Math.max(kept, 0));
  }

  close() {
    this.asked++;
    this.el.hidden = true;
    this.items = [];
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  /** @param {number} index */
  setActive(index) {
    this.active = index;
    [...this.el.children].forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    if (this.items.length) this.input.setAttribute("aria-activedescendant", `${this.id}-${index}`);
    this.el.children[index]?.scrollIntoView({ block: "nearest" });
  }

  /** @param {KeyboardEvent} ev */
  onKeyDown(ev) {
    if (!this.open || ev.isComposing) return;
    const count = this.items.length;
    if ((ev.key === "ArrowDown" || ev.key === "ArrowUp") && count) {
      const step = ev.key === "ArrowDown" ? 1 : -1;
      this.navigated = true;
      this.setActive((this.active + step + count) % count);
    } else if ((ev.key === "Enter" && !ev.shiftKey) || ev.key === "Tab") {
      if (!count) {
        this.close();
        return;
      }
      this.pick(this.active);
    } else if (ev.key === "Escape") {
      this.close();
    } else {
      return;
    }
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }

  /**
   * Put `@name ` in place of the typed word and hand the item over.
   * @param {number} index
   */
  pick(index) {
    const item = this.items[index];
    if (!item) return;
    const caret = this.input.selectionStart ?? this.input.value.length;
    const start = caret - this.query.length - 1;
    const mention = `@${item.label.includes(" ") ? `"${item.label}"` : item.label} `;
    this.input.value = this.input.value.slice(0, start) + mention + this.input.value.slice(caret);
    const end = start + mention.length;
    this.input.setSelectionRange(end, end);
    this.close();
    this.input.focus();
    this.options.onPick(item);
  }
}
