// Chat widget (anywidget ESM entry): wires the synced traits and custom messages to the views.
import "./chat.css";
import { ContextChips } from "./chips.js";
import { Composer } from "./composer.js";
import { h } from "./dom.js";
import { Header } from "./header.js";
import { MessageList } from "./messages.js";
import { Notices } from "./notices.js";

/** @typedef {import("./types.js").WidgetModel} WidgetModel */

const CONNECTION_TEXT = {
  connecting: "Connecting to the opencode server…",
  reconnecting: "Connection lost, reconnecting…",
  offline: "Offline: not connected to the opencode server.",
  disconnected: "Disconnected.",
};

/**
 * Render the chat panel into `el`; returns the cleanup function.
 * @param {{model: WidgetModel, el: HTMLElement}} props
 * @returns {() => void}
 */
function render({ model, el }) {
  /** @param {Record<string, unknown>} content */
  const send = (content) => model.send(content);
  const root = h("div", { class: "jo-chat" });

  const header = new Header({
    onSwitch: (id) => send({ type: "switch", session_id: id }),
    onNew: () => send({ type: "new" }),
    onFork: () => send({ type: "fork" }),
    onModel: (id) => {
      model.set("model", id);
      model.save_changes();
    },
  });
  const banner = h("div", { class: "jo-banner", role: "alert", hidden: true });
  const notices = new Notices();
  const list = new MessageList({
    eventRoot: root,
    onPermission: (id, reply) => send({ type: "permission", permission_id: id, reply }),
    onLoadOlder: (before) => send({ type: "load_older", before }),
  });
  const status = h("div", { class: "jo-status", role: "status", "aria-live": "polite" });
  const chips = new ContextChips({
    onRemove: (id) => send({ type: "remove_context", id }),
    onAutoContext: (on) => {
      model.set("auto_context", on);
      model.save_changes();
    },
  });
  const composer = new Composer({
    onSend: (text) => {
      notices.clearErrors();
      list.scrollToBottom();
      send({ type: "send", text });
    },
    onStop: () => send({ type: "stop" }),
  });
  root.append(header.el, banner, notices.el, list.el, status, chips.el, composer.el);
  el.append(root);

  const updateSessions = () => header.setSessions(model.get("sessions"), model.get("session_id"), model.get("title"));
  const updateModels = () => header.setModels(model.get("models"), model.get("model"));
  /** @type {Record<string, () => void>} */
  const traits = {
    title: () => {
      header.setTitle(model.get("title"));
      updateSessions(); // the picker names a session not yet listed by this title
    },
    session_id: updateSessions,
    sessions: updateSessions,
    models: updateModels,
    model: updateModels,
    status: () => {
      const text = model.get("status") || "";
      status.textContent = text;
      status.classList.toggle("jo-status-error", text.startsWith("Error"));
    },
    busy: () => {
      const busy = Boolean(model.get("busy"));
      composer.setBusy(busy);
      root.classList.toggle("jo-busy", busy);
    },
    connection: () => updateBanner(),
    connection_error: () => updateBanner(),
    context: () => chips.setChips(model.get("context")),
    auto_context: () => chips.setAuto(model.get("auto_context")),
  };

  function updateBanner() {
    const state = model.get("connection") || "";
    const error = model.get("connection_error") || "";
    const show = state !== "" && state !== "connected";
    banner.hidden = !show;
    if (!show) return;
    const text = CONNECTION_TEXT[/** @type {keyof typeof CONNECTION_TEXT} */ (state)] ?? `Connection: ${state}`;
    banner.replaceChildren(h("strong", { text }), error ? h("span", { class: "jo-banner-detail", text: error }) : "");
    if (state === "disconnected") {
      banner.append(h("button", { class: "jo-btn jo-banner-retry", text: "Retry", onclick: () => send({ type: "retry" }) }));
    }
  }

  /** @type {[string, () => void][]} */
  const listeners = Object.entries(traits).map(([name, update]) => [`change:${name}`, update]);
  for (const [event, update] of listeners) {
    model.on(event, update);
    update();
  }

  /** @param {any} msg */
  const onCustom = (msg) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "reset") list.reset(msg.messages ?? [], msg.has_more);
    else if (msg.type === "older") list.prepend(msg.messages ?? [], msg.has_more);
    else if (msg.type === "frame") list.applyOps(msg.ops ?? []);
    else if (msg.type === "notice") notices.show(msg.level, msg.text ?? "");
  };
  model.on("msg:custom", onCustom);
  send({ type: "ready" });

  return () => {
    for (const [event, update] of listeners) model.off(event, update);
    model.off("msg:custom", onCustom);
    list.destroy();
    notices.destroy();
    root.remove();
  };
}

export default { render };
