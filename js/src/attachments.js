// Files, folders and images the next prompt carries: the chips above the input (images with a
// thumbnail), and the wire form a prompt sends (`attachments` of the REST and stream prompt).
import { h, humanSize } from "./dom.js";

/** Image types models take (jupyter_opencode/server/attachments.py). */
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
/** The server refuses larger images (413). */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/**
 * A pending attachment. Files and folders are named by their path under the Jupyter root;
 * images carry their bytes (base64).
 * @typedef {{type: "file" | "folder", path: string, size?: number}
 *   | {type: "image", mime: string, data: string, name?: string}} AttachmentInput
 * @typedef {AttachmentInput & {id: string, label: string, size: number}} Attachment
 * @typedef {{type: "file", path: string} | {type: "image", mime: string, data: string,
 *   name: string}} WireAttachment
 */

let ids = 0;

/**
 * Base64 of a Blob (a pasted or dropped image).
 * @param {Blob} blob
 * @returns {Promise<string>}
 */
export function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/**
 * The last part of a path.
 * @param {string} path
 */
const baseName = (path) => path.replace(/\/+$/, "").split("/").pop() || path;

export class PendingAttachments {
  /** @param {{onChange?: () => void}} [options] */
  constructor(options = {}) {
    this.onChange = options.onChange ?? (() => {});
    /** @type {Attachment[]} */
    this.items = [];
    this.el = h("div", { class: "jo-attachments", role: "list", "aria-label": "Attachments", hidden: true });
  }

  /**
   * Add one (a path already pending is not added twice); its id.
   * @param {AttachmentInput} input
   * @returns {string}
   */
  add(input) {
    if (input.type !== "image") {
      const known = this.items.find((a) => a.type !== "image" && a.path === input.path);
      if (known) return known.id;
    }
    const id = `att-${++ids}`;
    const label =
      input.type === "image" ? input.name || "image" : baseName(input.path) + (input.type === "folder" ? "/" : "");
    const size = input.type === "image" ? Math.floor((input.data.length * 3) / 4) : (input.size ?? 0);
    this.items.push({ ...input, id, label, size });
    this.render();
    return id;
  }

  /** @param {string} id */
  remove(id) {
    this.items = this.items.filter((a) => a.id !== id);
    this.render();
  }

  clear() {
    this.items = [];
    this.render();
  }

  /** @returns {WireAttachment[]} */
  wire() {
    return this.items.map((a) =>
      a.type === "image"
        ? { type: "image", mime: a.mime, data: a.data, name: a.label }
        : { type: "file", path: a.path },
    );
  }

  render() {
    this.el.hidden = !this.items.length;
    this.el.replaceChildren(...this.items.map((a) => this.chip(a)));
    this.onChange();
  }

  /**
   * @param {Attachment} item
   * @returns {HTMLElement}
   */
  chip(item) {
    const thumb =
      item.type === "image"
        ? h("img", { class: "jo-attachment-thumb", alt: "", src: `data:${item.mime};base64,${item.data}` })
        : h("span", { class: "jo-attachment-icon", "aria-hidden": "true", text: item.type === "folder" ? "▸" : "@" });
    return h(
      "span",
      {
        class: `jo-chip jo-attachment jo-attachment-${item.type}`,
        role: "listitem",
        title: item.type === "image" ? item.label : item.path,
        "data-id": item.id,
      },
      thumb,
      h("span", { class: "jo-chip-name", text: item.label }),
      item.size ? h("span", { class: "jo-chip-size", text: humanSize(item.size) }) : "",
      h("button", {
        type: "button",
        class: "jo-chip-remove",
        "aria-label": `Remove ${item.label}`,
        title: `Remove ${item.label}`,
        text: "×",
        onclick: () => this.remove(item.id),
      }),
    );
  }
}
