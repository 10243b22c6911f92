// The frames of the server's `opencode/stream` WebSocket, and the ops the renderer applies.
// Types only; the Python side of the same protocol is jupyter_opencode/server/protocol.py.

/**
 * Client -> server.
 * @typedef {{type: "subscribe", session_id: string, after_seq: number}} SubscribeFrame
 * @typedef {{type: "unsubscribe", session_id: string}} UnsubscribeFrame
 * @typedef {{type: "prompt", session_id: string, text: string, model?: string | null,
 *   context?: import("./types.js").ContextItem[]}} PromptFrame
 * @typedef {SubscribeFrame | UnsubscribeFrame | PromptFrame} ClientFrame
 */

/**
 * Server -> client. Every `chunk` and `message` frame carries the session's next `seq`;
 * resubscribing with `after_seq` = the last seq seen replays exactly the rest.
 * @typedef {{type: "connected"}} ConnectedFrame
 * @typedef {{type: "error", message: string, reason: string}} ErrorFrame
 * @typedef {{type: "accepted", session_id: string, session: import("./types.js").SessionInfo,
 *   user_message: import("./types.js").Message,
 *   assistant_message: import("./types.js").Message}} AcceptedFrame
 * @typedef {{type: "message", session_id: string, seq: number,
 *   message: import("./types.js").Message}} MessageFrame
 * @typedef {{type: "chunk", session_id: string, message_id: string, seq: number,
 *   kind: "text" | "reasoning", delta: string}} TextChunk
 * @typedef {{type: "chunk", session_id: string, message_id: string, seq: number,
 *   kind: "tool", tool: import("./types.js").ToolPart}} ToolChunk
 * @typedef {{type: "chunk", session_id: string, message_id: string, seq: number,
 *   kind: "permission", permission: import("./types.js").Permission}} PermissionChunk
 * @typedef {{type: "chunk", session_id: string, message_id: string, seq: number,
 *   kind: "status", status: "starting" | "thinking" | "tool" | "permission" | "retrying" |
 *   "idle" | "error", message?: string, attempt?: number}} StatusChunk
 * @typedef {TextChunk | ToolChunk | PermissionChunk | StatusChunk} ChunkFrame
 * @typedef {{type: "rewind", session_id: string, seq: number, removed: string[],
 *   notebook_changes: string[]}} RewindFrame
 * @typedef {ConnectedFrame | ErrorFrame | AcceptedFrame | MessageFrame | ChunkFrame | RewindFrame} ServerFrame
 */

/**
 * Renderer ops (what changed in a conversation), built from server frames by
 * conversation.js in the browser, or by the kernel for the notebook panel.
 * @typedef {{op: "message", message: Partial<import("./types.js").Message> & {id: string}}} MessageOp
 * @typedef {{op: "delta", id: string, kind: "text" | "reasoning", text: string}} DeltaOp
 * @typedef {{op: "tool", id: string, tool: import("./types.js").ToolPart}} ToolOp
 * @typedef {{op: "permission", id: string, permission: import("./types.js").Permission}} PermissionOp
 * @typedef {MessageOp | DeltaOp | ToolOp | PermissionOp} Op
 */

/** Message statuses after which nothing more streams into a message. */
export const FINAL_STATUSES = new Set(["complete", "error", "interrupted", "aborted"]);
