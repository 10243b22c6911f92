// Chat widget (anywidget ESM entry): the notebook panel host of the shared conversation view,
// fed by the kernel's synced traits and custom messages.
import { ChatView } from "./view.js";
import { MessageActions } from "./actions.js";
import { followKernel, kernelRequests } from "./kernelactions.js";
import { saveDownload } from "./download.js";
import { BRIDGE_ATTRIBUTE, INSERT_EVENT, showInserted } from "./codeblocks.js";
import { COMMANDS } from "./composer.js";

/** Commands the kernel knows beyond those of every host (kernel/commands.py). */
const KERNEL_COMMANDS = [
  { name: "/rename", args: " ", help: "Rename this conversation: /rename TITLE" },
  { name: "/star", args: "", help: "Star or unstar this conversation" },
  { name: "/tag", args: " ", help: "Tag this conversation: /tag NAME (/tag -NAME removes it)" },
  { name: "/template", args: " ", help: "Start with a template: /template NAME" },
];

/** @typedef {import("./types.js").WidgetModel} WidgetModel */

/**
 * Trait values the kernel sent live as `state` messages (from its client thread, while a cell
 * may run), with their version; per model, so a view rendered again still has them.
 * @type {WeakMap<WidgetModel, Map<string, {value: unknown, version: number}>>}
 */
const liveStates = new WeakMap();

/**
 * The newer of a trait's synced value and its live value.
 * @param {WidgetModel} model
 * @param {string} name
 * @returns {any}
 */
function current(model, name) {
  const live = liveStates.get(model)?.get(name);
  return live && live.version > (model.get("state_version") ?? 0) ? live.value : model.get(name);
}

/**
 * Render the chat panel into `el`; returns the cleanup function.
 * @param {{model: WidgetModel, el: HTMLElement}} props
 * @returns {() => void}
 */
function render({ model, el }) {
  if (!liveStates.has(model)) liveStates.set(model, new Map());
  const live = /** @type {Map<string, {value: unknown, version: number}>} */ (liveStates.get(model));
  /** @param {string} name */
  const get = (name) => current(model, name);
  /** @param {Record<string, unknown>} content */
  const send = (content) => model.send(content);
  /**
   * @param {string} name
   * @param {unknown} value
   */
  const save = (name, value) => {
    live.delete(name); // the user's choice is newer than anything the kernel sent
    model.set(name, value);
    model.save_changes();
  };
  const view = new ChatView({
    onSend: (text) => send({ type: "send", text }),
    onStop: () => send({ type: "stop" }),
    onSwitch: (id) => send({ type: "switch", session_id: id }),
    onNew: () => send({ type: "new" }),
    onFork: () => send({ type: "fork" }),
    onModel: (id) => save("model", id),
    onPermission: (id, reply) => send({ type: "permission", permission_id: id, reply }),
    onLoadOlder: (before) => send({ type: "load_older", before }),
    onRemoveChip: (id) => send({ type: "remove_context", id }),
    onAutoContext: (on) => save("auto_context", on),
    onRetry: () => send({ type: "retry" }),
    commands: [...COMMANDS, ...KERNEL_COMMANDS],
  });
  el.append(view.el);
  const actions = new MessageActions({ root: view.el, list: view.list.el, requests: kernelRequests(send) });
  /**
   * Insert as cell / Run: the kernel looks the code block up in its conversation and asks the
   * labextension to insert it. Without the labextension (classic, VS Code) the panel copies it.
   * @param {Event} event
   */
  const onInsert = (event) => {
    const detail = /** @type {CustomEvent<import("./codeblocks.js").InsertDetail>} */ (event).detail;
    if (!document.body.hasAttribute(BRIDGE_ATTRIBUTE)) return;
    detail.handled = true;
    detail.note = "Inserting below…";
    send({ type: "insert", message_id: detail.message_id, block: detail.block, run: detail.run });
  };
  view.el.addEventListener(INSERT_EVENT, onInsert);

  const updateSessions = () => view.header.setSessions(get("sessions"), get("session_id"), get("title"));
  const updateModels = () => view.header.setModels(get("models"), get("model"));
  const updateBanner = () => view.setConnection(get("connection") || "", get("connection_error") || "");
  /** @type {Record<string, () => void>} */
  const traits = {
    title: () => {
      view.header.setTitle(get("title"));
      updateSessions(); // the picker names a session not yet listed by this title
    },
    session_id: () => {
      view.el.dataset.session = get("session_id") || "";
      updateSessions();
    },
    sessions: updateSessions,
    models: updateModels,
    model: updateModels,
    status: () => view.setStatus(get("status") || ""),
    busy: () => view.setBusy(Boolean(get("busy"))),
    connection: updateBanner,
    connection_error: updateBanner,
    context: () => view.chips.setChips(get("context")),
    auto_context: () => view.chips.setAuto(get("auto_context")),
  };
  const updateAll = () => Object.values(traits).forEach((update) => update());
  /** @param {{version?: number, state?: Record<string, unknown>}} msg */
  const onState = ({ version = 0, state = {} }) => {
    for (const [name, value] of Object.entries(state)) {
      if ((live.get(name)?.version ?? -1) < version) live.set(name, { value, version });
      traits[name]?.();
    }
  };

  /** @type {[string, () => void][]} */
  const listeners = Object.entries(traits).map(([name, update]) => [`change:${name}`, update]);
  listeners.push(["change:state_version", updateAll]);
  for (const [event, update] of listeners) model.on(event, update);
  updateAll();

  /** @param {any} msg @param {any[]} [buffers] */
  const onCustom = (msg, buffers) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "state") onState(msg);
    else if (msg.type === "reset") view.reset(msg.messages ?? [], msg.has_more);
    else if (msg.type === "older") view.prepend(msg.messages ?? [], msg.has_more);
    else if (msg.type === "frame") view.applyOps(msg.ops ?? []);
    else if (msg.type === "notice") view.notice(msg.level, msg.text ?? "");
    else if (msg.type === "rewound") view.rewound(msg.session_id, msg.notebook_changes ?? []);
    else if (msg.type === "download") saveDownload(msg, buffers);
    else if (msg.type === "insert-cell" && msg.message_id) {
      showInserted(view.el, msg.message_id, msg.block, msg.run === true);
    }
    followKernel(actions, msg);
  };
  model.on("msg:custom", onCustom);
  send({ type: "ready" });

  return () => {
    for (const [event, update] of listeners) model.off(event, update);
    model.off("msg:custom", onCustom);
    view.el.removeEventListener(INSERT_EVENT, onInsert);
    actions.destroy();
    view.destroy();
  };
}

export default { render };
