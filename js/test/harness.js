// Standalone page hosting the built widget with a fake anywidget model (for browser tests).
import widget from "../../src/jupyter_opencode/static/chat.js";

const params = new URLSearchParams(location.search);
if (params.get("theme") === "dark") document.body.classList.add("dark");

/** A minimal stand-in for anywidget's model: traits, events and recorded sends. */
class FakeModel {
  constructor(traits) {
    this.traits = { ...traits };
    this.listeners = new Map();
    this.sent = [];
    this.saves = 0;
  }
  get(name) {
    return this.traits[name];
  }
  set(name, value) {
    this.traits[name] = value;
    this.emit(`change:${name}`);
  }
  on(event, cb) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(cb);
  }
  off(event, cb) {
    this.listeners.get(event)?.delete(cb);
  }
  emit(event, ...args) {
    for (const cb of [...(this.listeners.get(event) ?? [])]) cb(...args);
  }
  send(content) {
    this.sent.push(content);
  }
  save_changes() {
    this.saves += 1;
  }
  /** Deliver a kernel -> browser custom message. */
  custom(msg) {
    this.emit("msg:custom", msg);
  }
}

const model = new FakeModel({
  session_id: "sess-aaaaaaaa",
  title: "Clean the sales data",
  model: "fake/echo-1",
  models: [
    { id: "fake/echo-1", name: "Echo" },
    { id: "fake/big-2", name: "Big model" },
  ],
  status: "",
  busy: false,
  connection: "connected",
  connection_error: "",
  context: [],
  auto_context: true,
  sessions: [
    { id: "sess-aaaaaaaa", title: "Clean the sales data", updated_at: 1700000000, message_count: 6 },
    { id: "sess-bbbbbbbb", title: "Plot revenue", updated_at: 1690000000, message_count: 2 },
  ],
});

// The labextension's mark: "Insert as cell" then asks the kernel instead of copying.
if (params.get("bridge") === "1") document.body.setAttribute("data-jupyter-opencode-insert", "kernel");

const cleanup = widget.render({ model, el: document.getElementById("host") });
window.__model = model;
window.__widget = widget;
window.__cleanup = cleanup;
window.__ready = true;
