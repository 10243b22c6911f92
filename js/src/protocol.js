// The two wire protocols of the chat client, written down once on this side (types, kind lists):
// the server's `opencode/stream` WebSocket (Python twin: jupyter_opencode/server/protocol.py)
// and the comm between the notebook panel and its kernel (twin: jupyter_opencode/kernel/comm.py).
// README "Protocols" describes both.

/**
 * Client -> server.
 * @typedef {{type: "subscribe", session_id: string, after_seq: number}} SubscribeFrame
 * @typedef {{type: "unsubscribe", session_id: string}} UnsubscribeFrame
 * @typedef {{type: "prompt", session_id: string, text: string, model?: string | null, agent?: string | null,
 *   context?: import("./types.js").ContextItem[]}} PromptFrame
 * @typedef {{type: "cadence", cadence_ms: number}} CadenceFrame
 * @typedef {SubscribeFrame | UnsubscribeFrame | PromptFrame | CadenceFrame} ClientFrame
 */

/**
 * Server -> client. Every `chunk`, `message` and `rewind` frame read from the stream carries the
 * session's next `seq`; resubscribing with `after_seq` = the last seq seen replays exactly the
 * rest. A `message` frame without seq (a page re-read, a prompt's answer) is applied as is.
 * @typedef {{type: "connected"}} ConnectedFrame
 * @typedef {{type: "error", message: string, reason: string, session_id?: string}} ErrorFrame
 * @typedef {{type: "accepted", session_id: string, session: import("./types.js").SessionInfo,
 *   user_message: import("./types.js").Message,
 *   assistant_message: import("./types.js").Message}} AcceptedFrame
 * @typedef {{type: "message", session_id: string, seq?: number,
 *   message: import("./types.js").Message}} MessageFrame
 * @typedef {{type: "chunk", session_id: string, message_id: string, seq: number,
 *   kind: "text" | "reasoning", delta: string}} TextChunk
 * @typedef {{type: "chunk", session_id: string, message_id: string, seq: number,
 *   kind: "tool", tool: import("./types.js").ToolPart}} ToolChunk
 * @typedef {{type: "chunk", session_id: string, message_id: string, seq: number,
 *   kind: "permission", permission: import("./types.js").Permission}} PermissionChunk
 * @typedef {{type: "chunk", session_id: string, message_id: string, seq: number,
 *   kind: "status", status: "starting" | "thinking" | "writing" | "tool" | "permission" | "question" |
 *   "retrying" | "idle" | "error", message?: string | null, attempt?: number}} StatusChunk
 * @typedef {{type: "chunk", session_id: string, message_id: string, seq: number,
 *   kind: "todo", todos: import("./plan.js").TodoItem[]}} TodoChunk
 * @typedef {{type: "chunk", session_id: string, message_id: string, seq: number,
 *   kind: "usage", usage: import("./usage.js").Usage}} UsageChunk
 * @typedef {TextChunk | ToolChunk | PermissionChunk | StatusChunk | TodoChunk | UsageChunk} ChunkFrame
 * @typedef {{type: "question", session_id: string, message_id: string, seq?: number,
 *   question_id: string, questions: import("./types.js").QuestionInfo[],
 *   answers?: string[][], rejected?: boolean}} QuestionFrame
 * @typedef {{type: "rewind", session_id: string, seq?: number, removed: string[],
 *   notebook_changes: string[], file_changes?: string[]}} RewindFrame
 * @typedef {ConnectedFrame | ErrorFrame | AcceptedFrame | MessageFrame | ChunkFrame |
 *   QuestionFrame | RewindFrame} ServerFrame
 */

/** Every `type` of a server -> client frame (checked against the Python side by the tests). */
export const SERVER_FRAME_TYPES = ["connected", "error", "accepted", "message", "chunk", "question", "rewind"];
/** Every `type` of a client -> server frame. */
export const CLIENT_FRAME_TYPES = ["subscribe", "unsubscribe", "prompt", "cadence"];

/**
 * Kernel -> panel comm messages.
 * @typedef {{type: "state", version: number, state: Record<string, unknown>}} StateMessage
 * @typedef {{type: "reset", messages: import("./types.js").Message[], has_more: boolean,
 *   seq: number}} ResetMessage
 * @typedef {{type: "older", messages: import("./types.js").Message[], has_more: boolean}} OlderMessage
 * @typedef {{type: "frames", frames: ServerFrame[]}} FramesMessage
 * @typedef {{type: "notice", level: "info" | "error", text: string}} NoticeMessage
 * @typedef {{type: "annotation", message_id: string,
 *   annotation: import("./actions.js").Annotation | null}} AnnotationMessage
 * @typedef {{type: "search_results", query: string,
 *   hits: import("./actions.js").Hit[]}} SearchResultsMessage
 * @typedef {{type: "found", request: number, items: any[]}} FoundMessage
 * @typedef {{type: "download", filename: string, media_type: string}} DownloadMessage
 * @typedef {{type: "insert-cell", code: string, run: boolean, message_id?: string,
 *   block?: number}} InsertCellMessage
 * @typedef {StateMessage | ResetMessage | OlderMessage | FramesMessage | NoticeMessage |
 *   AnnotationMessage | SearchResultsMessage | FoundMessage | DownloadMessage |
 *   InsertCellMessage} KernelMessage
 */

/** Every `type` of a kernel -> panel message. */
export const KERNEL_MESSAGE_TYPES = [
  "state",
  "reset",
  "older",
  "frames",
  "notice",
  "annotation",
  "search_results",
  "found",
  "download",
  "insert-cell",
];

/**
 * Panel -> kernel comm messages.
 * @typedef {{type: "ready"}} ReadyMessage
 * @typedef {{type: "send", text: string,
 *   attachments?: import("./attachments.js").WireAttachment[]}} SendMessage
 * @typedef {{type: "stop"}} StopMessage
 * @typedef {{type: "permission", permission_id: string, reply: string}} PermissionMessage
 * @typedef {{type: "answer", question_id: string, answers: string[][] | null}} AnswerMessage
 * @typedef {{type: "remove_context", id: string}} RemoveContextMessage
 * @typedef {{type: "load_older", before: string}} LoadOlderMessage
 * @typedef {{type: "switch", session_id: string}} SwitchMessage
 * @typedef {{type: "new", keep_context: boolean}} NewMessage
 * @typedef {{type: "fork"}} ForkMessage
 * @typedef {{type: "edit", message_id: string, text: string}} EditMessage
 * @typedef {{type: "rewind", message_id: string}} RewindMessage
 * @typedef {{type: "annotate", message_id: string, rating: "up" | "down" | null,
 *   note: string}} AnnotateMessage
 * @typedef {{type: "retry"}} RetryMessage
 * @typedef {{type: "insert", message_id: string, block: number, run: boolean}} InsertMessage
 * @typedef {{type: "command", name: string, arg: string}} CommandMessage
 * @typedef {{type: "attach", context: import("./types.js").ContextItem[]}} AttachMessage
 * @typedef {{type: "opencode_command", name: string, arguments: string}} OpencodeCommandMessage
 * @typedef {{type: "find_files", request: number, query: string}} FindFilesMessage
 * @typedef {{type: "list_variables", request: number}} ListVariablesMessage
 * @typedef {{type: "attach_variable", name: string}} AttachVariableMessage
 * @typedef {{type: "cadence", cadence_ms: number}} CadenceMessage
 * @typedef {ReadyMessage | SendMessage | StopMessage | PermissionMessage | AnswerMessage |
 *   RemoveContextMessage |
 *   LoadOlderMessage | SwitchMessage | NewMessage | ForkMessage | EditMessage | RewindMessage |
 *   AnnotateMessage | RetryMessage | InsertMessage | CommandMessage | AttachMessage |
 *   OpencodeCommandMessage | FindFilesMessage | ListVariablesMessage |
 *   AttachVariableMessage | CadenceMessage} PanelMessage
 */

/** Every `type` of a panel -> kernel message. */
export const PANEL_MESSAGE_TYPES = [
  "ready",
  "send",
  "stop",
  "permission",
  "answer",
  "remove_context",
  "load_older",
  "switch",
  "new",
  "fork",
  "edit",
  "rewind",
  "annotate",
  "retry",
  "insert",
  "command",
  "attach",
  "opencode_command",
  "find_files",
  "list_variables",
  "attach_variable",
  "cadence",
];

/**
 * Renderer ops (what changed in a conversation), built from server frames by conversation.js.
 * @typedef {{op: "message", message: Partial<import("./types.js").Message> & {id: string}}} MessageOp
 * @typedef {{op: "delta", id: string, kind: "text" | "reasoning", text: string}} DeltaOp
 * @typedef {{op: "tool", id: string, tool: import("./types.js").ToolPart}} ToolOp
 * @typedef {{op: "permission", id: string, permission: import("./types.js").Permission}} PermissionOp
 * @typedef {{op: "todo", id: string, todos: import("./plan.js").TodoItem[]}} TodoOp
 * @typedef {{op: "question", id: string, question: import("./types.js").QuestionPart}} QuestionOp
 * @typedef {MessageOp | DeltaOp | ToolOp | PermissionOp | TodoOp | QuestionOp} Op
 */

/** Message statuses after which nothing more streams into a message. */
export const FINAL_STATUSES = new Set(["complete", "error", "interrupted", "aborted"]);
