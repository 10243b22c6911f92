// Chat widget (anywidget ESM entry): the notebook panel host of the shared conversation view,
// fed by the kernel's synced traits and custom messages.
import { ChatView } from "./view.js";
import { MessageActions } from "./actions.js";
import { followKernel, kernelRequests } from "./kernelactions.js";
import { saveDownload } from "./download.js";

/** @typedef {import("./types.js").WidgetModel} WidgetModel */

/**
 * Render the chat panel into `el`; returns the cleanup function.
 * @param {{model: WidgetModel, el: HTMLElement}} props
 * @returns {() => void}
 */
function render({ model, el }) {
  /** @param {Record<string, unknown>} content */
  const send = (content) => model.send(content);
  /**
   * @param {string} name
   * @param {unknown} value
   */
  const save = (name, value) => {
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
  });
  el.append(view.el);
  const actions = new MessageActions({ root: view.el, list: view.list.el, requests: kernelRequests(send) });

  const updateSessions = () =>
    view.header.setSessions(model.get("sessions"), model.get("session_id"), model.get("title"));
  const updateModels = () => view.header.setModels(model.get("models"), model.get("model"));
  const updateBanner = () => view.setConnection(model.get("connection") || "", model.get("connection_error") || "");
  /** @type {Record<string, () => void>} */
  const traits = {
    title: () => {
      view.header.setTitle(model.get("title"));
      updateSessions(); // the picker names a session not yet listed by this title
    },
    session_id: () => {
      view.el.dataset.session = model.get("session_id") || "";
      updateSessions();
    },
    sessions: updateSessions,
    models: updateModels,
    model: updateModels,
    status: () => view.setStatus(model.get("status") || ""),
    busy: () => view.setBusy(Boolean(model.get("busy"))),
    connection: updateBanner,
    connection_error: updateBanner,
    context: () => view.chips.setChips(model.get("context")),
    auto_context: () => view.chips.setAuto(model.get("auto_context")),
  };

  /** @type {[string, () => void][]} */
  const listeners = Object.entries(traits).map(([name, update]) => [`change:${name}`, update]);
  for (const [event, update] of listeners) {
    model.on(event, update);
    update();
  }

  /** @param {any} msg @param {any[]} [buffers] */
  const onCustom = (msg, buffers) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "reset") view.reset(msg.messages ?? [], msg.has_more);
    else if (msg.type === "older") view.prepend(msg.messages ?? [], msg.has_more);
    else if (msg.type === "frame") view.applyOps(msg.ops ?? []);
    else if (msg.type === "notice") view.notice(msg.level, msg.text ?? "");
    else if (msg.type === "rewound") view.rewound(msg.session_id, msg.notebook_changes ?? []);
    else if (msg.type === "download") saveDownload(msg, buffers);
    followKernel(actions, msg);
  };
  model.on("msg:custom", onCustom);
  send({ type: "ready" });

  return () => {
    for (const [event, update] of listeners) model.off(event, update);
    model.off("msg:custom", onCustom);
    actions.destroy();
    view.destroy();
  };
}

export default { render };
