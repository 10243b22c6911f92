// Chat widget (anywidget ESM entry): the notebook panel host of the shared chat client. The
// kernel forwards the server's frames and pages (comm messages: protocol.js) and runs what needs
// it; synced traits carry the panel's settings and the kernel's state.
import { ChatClient } from "./client.js";
import { saveDownload } from "./download.js";
import { BRIDGE_ATTRIBUTE, INSERT_EVENT, showInserted } from "./codeblocks.js";

/** @typedef {import("./types.js").WidgetModel} WidgetModel */

/**
 * Main-thread ms a comm message costs the page before the panel sees it: the kernel's socket,
 * then JupyterLab's kernel connection and widget manager (measured with bench_render.py
 * --trace, and as what a reply's frames cost a panel beyond a tab's).
 */
const KERNEL_FRAME_MS = 1;
/** A kernel busy running a cell answers the @ menu after it: the menu does not wait that long. */
const KERNEL_ANSWER_MS = 3000;

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
  /**
   * Ask the kernel to run a command it executes.
   * @param {string} name
   * @param {string} [arg]
   */
  const command = (name, arg = "") => send({ type: "command", name, arg });
  /** @type {Map<number, (items: any[]) => void>} */
  const asked = new Map();
  let requests = 0;
  /**
   * Ask the kernel for the @ menu's entries; an unanswered request (a busy kernel) ends empty.
   * @param {"find_files" | "list_variables"} type
   * @param {Record<string, unknown>} [fields]
   * @returns {Promise<any[]>}
   */
  const ask = (type, fields = {}) =>
    new Promise((resolve) => {
      const request = ++requests;
      asked.set(request, resolve);
      send({ type, request, ...fields });
      setTimeout(() => asked.delete(request) && resolve([]), KERNEL_ANSWER_MS);
    });
  const client = new ChatClient({
    kernel: true,
    prompt: (text, attachments) => send({ type: "send", text, ...(attachments.length ? { attachments } : {}) }),
    findFiles: (query) => ask("find_files", { query }),
    variables: () => ask("list_variables"),
    attachVariable: (name) => send({ type: "attach_variable", name }),
    stop: () => send({ type: "stop" }),
    permission: (id, reply) => send({ type: "permission", permission_id: id, reply }),
    answer: (id, answers) => send({ type: "answer", question_id: id, answers }),
    loadOlder: (before) => send({ type: "load_older", before }),
    retry: () => send({ type: "retry" }),
    cadence: (ms) => send({ type: "cadence", cadence_ms: ms }),
    frameCostMs: KERNEL_FRAME_MS,
    removeChip: (id) => send({ type: "remove_context", id }),
    attachContext: (context) => send({ type: "attach", context }),
    setAutoContext: (on) => save("auto_context", on),
    // The panel switches to the session; where in it a search hit was is not sent.
    open: (id) => send({ type: "switch", session_id: id }),
    edit: (mid, text) => send({ type: "edit", message_id: mid, text }),
    rewind: (mid) => send({ type: "rewind", message_id: mid }),
    annotate: (mid, rating, note) => send({ type: "annotate", message_id: mid, rating, note }),
    newChat: (keep) => send({ type: "new", keep_context: keep }),
    fork: () => send({ type: "fork" }),
    setModel: (id) => save("model", id),
    attachCells: (count) => command("context", String(count)),
    exportAs: (format) => command("export", format),
    search: (query) => command("search", query),
    rename: (title) => command("rename", title),
    star: () => command("star"),
    tag: (name) => command("tag", name),
    template: (name) => command("template", name),
    compact: () => command("compact"),
    opencodeCommand: (name, args) => send({ type: "opencode_command", name, arguments: args }),
    setAgent: (name) => save("agent", name),
  });
  const view = client.view;
  el.append(view.el);
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
  const updateModels = () => client.setModels(get("models") ?? [], get("model") ?? "");
  const updateToolset = () => client.setToolset(get("agents") ?? [], get("opencode_commands") ?? [], get("agent") ?? "");
  const updateBanner = () => view.setConnection(get("connection") || "", get("connection_error") || "");
  /** @type {Record<string, () => void>} */
  const traits = {
    title: () => {
      view.header.setTitle(get("title"));
      updateSessions(); // the picker names a session not yet listed by this title
    },
    session_id: () => {
      client.sessionId = get("session_id") || "";
      view.el.dataset.session = client.sessionId;
      updateSessions();
    },
    sessions: updateSessions,
    models: updateModels,
    model: updateModels,
    agents: updateToolset,
    opencode_commands: updateToolset,
    agent: updateToolset,
    busy: () => client.setSending(Boolean(get("busy"))),
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

  /**
   * @param {import("./protocol.js").KernelMessage} msg
   * @param {any[]} [buffers]
   */
  const onCustom = (msg, buffers) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "state") onState(msg);
    else if (msg.type === "reset") client.reset(msg.messages ?? [], msg.has_more, msg.seq ?? 0);
    else if (msg.type === "older") client.prepend(msg.messages ?? [], msg.has_more);
    else if (msg.type === "frames") client.apply(msg.frames ?? []);
    else if (msg.type === "notice") client.notice(msg.level, msg.text ?? "");
    else if (msg.type === "annotation") client.setAnnotation(msg.message_id, msg.annotation ?? null);
    else if (msg.type === "search_results") client.showResults(msg.query ?? "", msg.hits ?? []);
    else if (msg.type === "download") saveDownload(msg, buffers);
    else if (msg.type === "found") {
      asked.get(msg.request)?.(msg.items ?? []);
      asked.delete(msg.request);
    }
    else if (msg.type === "insert-cell" && msg.message_id) {
      showInserted(view.el, msg.message_id, msg.block ?? 0, msg.run === true);
    }
  };
  model.on("msg:custom", onCustom);
  send({ type: "ready" });

  return () => {
    for (const [event, update] of listeners) model.off(event, update);
    model.off("msg:custom", onCustom);
    view.el.removeEventListener(INSERT_EVENT, onInsert);
    client.destroy();
  };
}

export default { render };
