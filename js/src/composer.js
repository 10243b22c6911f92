// The input box: Enter sends, Shift+Enter newline, Esc stops, slash-command completion, the `@`
// menu (mentions.js), images pasted or dropped, files dragged from JupyterLab's file browser.
import { IMAGE_TYPES } from "./attachments.js";
import { h } from "./dom.js";
import { MentionMenu } from "./mentions.js";

/** @typedef {{name: string, args: string, help: string}} SlashCommand */


const MAX_ROWS_PX = 160;
let menuIds = 0;

/** What JupyterLab's file browser puts in a drag (Lumino drag events, not HTML ones). */
const CONTENTS_MIME = "application/x-jupyter-icontents";

/**
 * @typedef {{onSend: (text: string) => void, onStop: () => void, commands?: SlashCommand[],
 *   mentions?: () => import("./mentions.js").MentionSource[],
 *   onMention?: (item: import("./mentions.js").MentionItem) => void,
 *   onImages?: (images: File[]) => void, onPaths?: (paths: string[]) => void,
 *   onRefused?: (text: string) => void, onAgent?: (name: string) => void}} ComposerOptions
 */

export class Composer {
  /** @param {ComposerOptions} options */
  constructor(options) {
    this.options = options;
    this.commands = options.commands ?? [];
    this.busy = false;
    /** @type {SlashCommand[]} */
    this.matches = [];
    this.active = 0;
    this.menuId = `jo-slash-${++menuIds}`;

    this.input = /** @type {HTMLTextAreaElement} */ (
      h("textarea", {
        class: "jo-input",
        rows: "1",
        "aria-label": "Message",
        placeholder: "Ask opencode… (/ for commands)",
        "aria-autocomplete": "list",
        "aria-controls": this.menuId,
        "aria-expanded": "false",
      })
    );
    this.menu = h("ul", { class: "jo-slash", id: this.menuId, role: "listbox", "aria-label": "Commands", hidden: true });
    this.sendButton = h("button", { type: "button", class: "jo-btn jo-btn-primary jo-send", text: "Send" });
    this.stopButton = h("button", { type: "button", class: "jo-btn jo-btn-danger jo-stop", text: "Stop", hidden: true });
    // Before the composer's own keydown listener: keys the @ menu uses go no further.
    this.mentions = new MentionMenu(this.input, {
      sources: () => options.mentions?.() ?? [],
      onPick: (item) => options.onMention?.(item),
    });
    this.agentSelect = /** @type {HTMLSelectElement} */ (
      h("select", {
        class: "jo-agent",
        "aria-label": "Agent",
        title: "The agent that answers (and goes on answering in this conversation)",
        hidden: true,
        onchange: () => {
          // Picked, the agent is the conversation's: "Agent: default" no longer applies.
          if (this.agentSelect.value) this.agentSelect.querySelector('option[value=""]')?.remove();
          options.onAgent?.(this.agentSelect.value);
        },
      })
    );
    this.el = h(
      "div",
      { class: "jo-composer" },
      this.menu,
      this.mentions.el,
      h("div", { class: "jo-input-row" }, this.agentSelect, this.input, this.sendButton, this.stopButton),
    );
    this.listenForImagesAndFiles();

    this.input.addEventListener("keydown", (ev) => this.onKeyDown(ev));
    this.input.addEventListener("input", () => this.onInput());
    this.input.addEventListener("blur", () => setTimeout(() => this.closeMenu(), 150));
    this.sendButton.addEventListener("click", () => this.submit());
    this.stopButton.addEventListener("click", () => options.onStop());
    this.menu.addEventListener("mousedown", (ev) => {
      const item = /** @type {HTMLElement} */ (ev.target).closest("li");
      if (!item) return;
      ev.preventDefault();
      this.complete(Number(item.dataset.index));
    });
  }

  /** Paste and drop of images; drops of JupyterLab file browser entries. */
  listenForImagesAndFiles() {
    const { onImages, onPaths, onRefused } = this.options;
    this.input.addEventListener("paste", (ev) => {
      const files = [...(ev.clipboardData?.files ?? [])];
      const images = files.filter((f) => IMAGE_TYPES.includes(f.type));
      if (!images.length || !onImages) return;
      ev.preventDefault();
      onImages(images);
    });
    this.el.addEventListener("dragover", (ev) => {
      if (ev.dataTransfer?.types.includes("Files")) ev.preventDefault();
    });
    this.el.addEventListener("drop", (ev) => {
      const files = [...(ev.dataTransfer?.files ?? [])];
      if (!files.length) return;
      ev.preventDefault();
      const images = files.filter((f) => IMAGE_TYPES.includes(f.type));
      if (images.length && onImages) onImages(images);
      const others = files.filter((f) => !IMAGE_TYPES.includes(f.type)).map((f) => f.name);
      if (others.length) {
        onRefused?.(`Not attached: ${others.join(", ")}. Drop images here; mention files under the Jupyter root with @.`);
      }
    });
    if (!onPaths) return;
    /** @param {Event} ev */
    const lumino = (ev) => {
      const drag = /** @type {any} */ (ev);
      if (!drag.mimeData?.hasData(CONTENTS_MIME)) return;
      ev.preventDefault();
      ev.stopPropagation();
      if (ev.type === "lm-dragover") drag.dropAction = drag.proposedAction;
      if (ev.type === "lm-drop") {
        drag.dropAction = drag.proposedAction; // the file browser proposes a move, and moves nothing itself
        const paths = drag.mimeData.getData(CONTENTS_MIME);
        onPaths((Array.isArray(paths) ? paths : [paths]).map((p) => String(p).replace(/^[^/:]*:/, "")));
      }
    };
    for (const type of ["lm-dragenter", "lm-dragover", "lm-drop"]) this.el.addEventListener(type, lumino);
  }

  /**
   * The agents to pick from, `current` picked: the conversation's agent once it has one, else
   * "Agent: default" (opencode's own choice) first.
   * @param {{name: string, description: string}[]} agents
   * @param {string} current
   */
  setAgents(agents, current) {
    const known = agents.some((a) => a.name === current);
    this.agentSelect.replaceChildren(
      ...(known ? [] : [h("option", { value: "", text: "Agent: default" })]),
      ...agents.map((a) => h("option", { value: a.name, text: a.name, title: a.description || null })),
    );
    this.agentSelect.value = known ? current : "";
    this.agentSelect.hidden = !agents.length;
  }

  /**
   * The slash menu's commands (ours, then opencode's).
   * @param {SlashCommand[]} commands
   */
  setCommands(commands) {
    this.commands = commands;
    // A menu open (or wanted) while they arrived shows them now.
    if (document.activeElement === this.input && this.input.value.startsWith("/")) this.onInput();
  }

  /** @param {boolean} busy */
  setBusy(busy) {
    this.busy = busy;
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
  }

  /** Send the current text (slash commands are sent verbatim too). */
  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    // While a reply streams, the client queues a prompt until the answer ends.
    this.options.onSend(text);
    this.input.value = "";
    this.closeMenu();
    this.autosize();
  }

  /** @param {KeyboardEvent} ev */
  onKeyDown(ev) {
    if (ev.isComposing) return;
    const menuOpen = !this.menu.hidden;
    if (menuOpen && (ev.key === "ArrowDown" || ev.key === "ArrowUp")) {
      ev.preventDefault();
      const step = ev.key === "ArrowDown" ? 1 : -1;
      this.setActive((this.active + step + this.matches.length) % this.matches.length);
    } else if (menuOpen && (ev.key === "Tab" || (ev.key === "Enter" && !ev.shiftKey))) {
      ev.preventDefault();
      this.complete(this.active);
    } else if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      this.submit();
    } else if (ev.key === "Escape") {
      if (menuOpen) {
        ev.preventDefault();
        this.closeMenu();
      } else if (this.busy) {
        ev.preventDefault();
        this.options.onStop();
      }
    }
  }

  onInput() {
    this.autosize();
    const value = this.input.value;
    if (!/^\/\S*$/.test(value)) {
      this.closeMenu();
      return;
    }
    const matches = this.commands.filter((c) => c.name.startsWith(value.toLowerCase()));
    // A fully typed command needs no menu (Enter should send it).
    if (!matches.length || (matches.length === 1 && matches[0].name === value)) {
      this.closeMenu();
      return;
    }
    this.openMenu(matches);
  }

  /** @param {SlashCommand[]} matches */
  openMenu(matches) {
    this.matches = matches;
    this.menu.replaceChildren(
      ...matches.map((c, i) =>
        h(
          "li",
          { id: `${this.menuId}-${i}`, role: "option", "data-index": i, class: "jo-slash-item" },
          h("span", { class: "jo-slash-name", text: c.name }),
          h("span", { class: "jo-slash-help", text: c.help }),
        ),
      ),
    );
    this.menu.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.setActive(0);
  }

  closeMenu() {
    this.menu.hidden = true;
    this.matches = [];
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  /** @param {number} index */
  setActive(index) {
    this.active = index;
    [...this.menu.children].forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    this.input.setAttribute("aria-activedescendant", `${this.menuId}-${index}`);
    this.menu.children[index]?.scrollIntoView({ block: "nearest" });
  }

  /** @param {number} index */
  complete(index) {
    const command = this.matches[index];
    if (!command) return;
    this.input.value = command.name + command.args;
    this.closeMenu();
    this.input.focus();
    this.autosize();
  }

  /** Grow the textarea with its content, up to a few lines. */
  autosize() {
    this.input.style.height = "auto";
    const height = this.input.scrollHeight;
    if (height) this.input.style.height = `${Math.min(height, MAX_ROWS_PX)}px`;
  }
}
