// One session's messages as a client sees them, built from the server's stream frames into
// renderer ops: the only conversation state of both hosts (the notebook panel gets the same
// frames through its kernel). The kernel keeps a copy by the same rules (kernel/conversation.py)
// for what its Python API returns.
import { setPlan } from "./plan.js";
import { setUsage } from "./usage.js";
import { FINAL_STATUSES } from "./protocol.js";

/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./protocol.js").Op} Op */
/** @typedef {import("./protocol.js").ServerFrame} ServerFrame */

/** The status line for each status chunk without a text of its own. */
const STATUS_TEXT = {
  starting: "Starting the opencode worker…",
  thinking: "Thinking…",
  writing: "Writing…",
  tool: "Running a tool…",
  permission: "Waiting for your permission",
  question: "Waiting for your answer",
};

export class Conversation {
  constructor() {
    /** @type {Message[]} */
    this.messages = [];
    /** @type {Map<string, Message>} */
    this.byId = new Map();
    /** Last seq applied: resubscribe with it to get exactly the rest. */
    this.seq = 0;
    this.status = "";
  }

  /**
   * Replace everything with a page (oldest first) and the seq it was read at.
   * @param {Message[]} messages
   * @param {number} seq
   */
  reset(messages, seq) {
    this.messages = messages.map((m) => structuredClone(m));
    this.byId = new Map(this.messages.map((m) => [m.id, m]));
    this.seq = seq;
    // A question asked before this page was read still waits (its status frame is older).
    const waiting = this.messages.some(
      (m) =>
        m.role === "assistant" &&
        !FINAL_STATUSES.has(m.status) &&
        (m.parts ?? []).some((p) => p.kind === "question" && !p.answers && !p.rejected),
    );
    this.status = waiting ? STATUS_TEXT.question : "";
  }

  /** The last user message, if any (what `/rewind` takes back). */
  lastUserMessage() {
    return this.messages.findLast((m) => m.role === "user") ?? null;
  }

  /**
   * Add an older page (oldest first) in front of what is known.
   * @param {Message[]} messages
   */
  prepend(messages) {
    const older = messages.filter((m) => !this.byId.has(m.id)).map((m) => structuredClone(m));
    for (const m of older) this.byId.set(m.id, m);
    this.messages = [...older, ...this.messages];
  }

  /**
   * Drop messages taken back by a rewind; false when none of them was known (already done).
   * @param {string[]} ids
   */
  remove(ids) {
    const gone = ids.filter((id) => this.byId.delete(id));
    if (!gone.length) return false;
    const removed = new Set(gone);
    this.messages = this.messages.filter((m) => !removed.has(m.id));
    return true;
  }

  /** Whether an answer is in progress. */
  get busy() {
    return this.messages.some((m) => m.role === "assistant" && !FINAL_STATUSES.has(m.status));
  }

  /**
   * Apply one stream frame; return the ops the renderer needs.
   * @param {ServerFrame} frame
   * @returns {Op[]}
   */
  apply(frame) {
    if (frame.type !== "chunk" && frame.type !== "message" && frame.type !== "question") return [];
    if (typeof frame.seq === "number") {
      if (frame.seq <= this.seq) return []; // replayed twice
      this.seq = frame.seq;
    }
    if (frame.type === "message") {
      const ops = this.upsert(frame.message);
      if (frame.message.role === "assistant" && FINAL_STATUSES.has(frame.message.status)) {
        this.status = finalText(frame.message);
      }
      return ops;
    }
    if (frame.type === "chunk" && frame.kind === "status") {
      this.status = statusText(frame);
      return [];
    }
    if (frame.type === "chunk" && frame.kind === "permission") this.status = STATUS_TEXT.permission;
    /** @type {Op[]} */
    const ops = [];
    let message = this.byId.get(frame.message_id);
    if (!message) {
      ops.push(...this.upsert(placeholder(frame.message_id, frame.session_id)));
      message = /** @type {Message} */ (this.byId.get(frame.message_id));
    } else if (FINAL_STATUSES.has(message.status)) {
      return [];
    }
    if (message.status === "pending") message.status = "streaming";
    if (frame.type === "question") {
      const part = questionPart(frame);
      const parts = (message.parts ??= []);
      const index = parts.findIndex((p) => p.kind === "question" && p.id === part.id);
      if (index >= 0) parts[index] = part;
      else parts.push(part);
      ops.push({ op: "question", id: message.id, question: part });
      if (!part.answers && !part.rejected) this.status = STATUS_TEXT.question;
    } else if (frame.kind === "text" || frame.kind === "reasoning") {
      if (frame.kind === "text") message.content += frame.delta;
      else appendReasoning(message, frame.delta);
      ops.push({ op: "delta", id: message.id, kind: frame.kind, text: frame.delta });
    } else if (frame.kind === "tool") {
      const parts = (message.parts ??= []);
      const index = parts.findIndex((p) => p.kind === "tool" && p.call_id === frame.tool.call_id);
      const part = { ...frame.tool, kind: /** @type {const} */ ("tool") };
      if (index >= 0) parts[index] = part;
      else parts.push(part);
      ops.push({ op: "tool", id: message.id, tool: frame.tool });
    } else if (frame.kind === "permission") {
      ops.push({ op: "permission", id: message.id, permission: frame.permission });
    } else if (frame.kind === "todo") {
      setPlan(message, frame.todos);
      ops.push({ op: "todo", id: message.id, todos: frame.todos });
    } else if (frame.kind === "usage") {
      setUsage(message, frame.usage);
    }
    return ops;
  }

  /**
   * Add or update a whole message.
   * @param {Message} message
   * @returns {Op[]}
   */
  upsert(message) {
    const existing = this.byId.get(message.id);
    if (!existing) {
      const copy = { ...structuredClone(message), content: message.content ?? "", parts: message.parts ?? [] };
      this.messages.push(copy);
      this.byId.set(copy.id, copy);
      return [{ op: "message", message }];
    }
    const final = FINAL_STATUSES.has(message.status);
    if (FINAL_STATUSES.has(existing.status) && !final) return [];
    if (!final) {
      // A pending/streaming copy may lag behind the deltas seen: keep the streamed body.
      const { content, parts, ...rest } = message;
      Object.assign(existing, rest);
      return [];
    }
    const streamed = existing.content;
    Object.assign(existing, structuredClone(message));
    // The renderer built this text from the deltas: the body is never sent twice.
    if (streamed === message.content) {
      const { content, ...rest } = message;
      return [{ op: "message", message: rest }];
    }
    return [{ op: "message", message }];
  }
}

/**
 * The status line text of a status chunk.
 * @param {import("./protocol.js").StatusChunk} frame
 * @returns {string}
 */
export function statusText(frame) {
  if (frame.status === "idle") return "";
  if (frame.status === "error") return `Error: ${frame.message || "unknown error"}`;
  if (frame.status === "retrying") {
    return `Retrying (${frame.attempt || "?"}/5)…${frame.message ? ` ${frame.message}` : ""}`;
  }
  if (frame.message) return frame.message;
  return STATUS_TEXT[/** @type {keyof typeof STATUS_TEXT} */ (frame.status)] ?? "";
}

/**
 * The status line once an answer is final.
 * @param {Message} message
 * @returns {string}
 */
export function finalText(message) {
  if (message.status === "error") return `Error: ${message.error || "unknown error"}`;
  if (message.status === "interrupted" || message.status === "aborted") return "Interrupted";
  return "";
}

/**
 * The message part of a question frame.
 * @param {import("./protocol.js").QuestionFrame} frame
 * @returns {import("./types.js").QuestionPart}
 */
function questionPart(frame) {
  /** @type {import("./types.js").QuestionPart} */
  const part = { kind: "question", id: frame.question_id, questions: frame.questions };
  if (frame.answers) part.answers = frame.answers;
  if (frame.rejected) part.rejected = true;
  return part;
}

/**
 * @param {string} id
 * @param {string} sessionId
 * @returns {Message}
 */
function placeholder(id, sessionId) {
  return { id, session_id: sessionId, role: "assistant", status: "streaming", content: "", parts: [] };
}

/**
 * @param {Message} message
 * @param {string} text
 */
function appendReasoning(message, text) {
  const parts = (message.parts ??= []);
  const last = parts[parts.length - 1];
  if (last?.kind === "reasoning") last.text += text;
  else parts.push({ kind: "reasoning", text });
}
