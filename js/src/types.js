// Shapes of the data exchanged with the kernel over the widget comm. Types only.

/**
 * @typedef {{kind: string, label: string, text: string}} ContextItem
 * @typedef {{kind: "reasoning", text: string}} ReasoningPart
 * @typedef {{kind: "tool", call_id: string, name: string, status: string,
 *   title?: string, input?: unknown, output?: unknown, error?: string}} ToolPart
 * @typedef {{question: string, header: string, options: {label: string, description: string}[],
 *   multiple: boolean, custom: boolean}} QuestionInfo
 * @typedef {{kind: "question", id: string, questions: QuestionInfo[], answers?: string[][],
 *   rejected?: boolean}} QuestionPart
 * @typedef {ReasoningPart | ToolPart | import("./plan.js").TodoPart |
 *   import("./filechanges.js").FilesPart | import("./usage.js").UsagePart |
 *   import("./usage.js").CompactionPart | QuestionPart} Part
 * @typedef {{id: string, permission: string, patterns?: string[],
 *   notebook?: import("./approval.js").NotebookChange}} Permission
 * @typedef {{id: string, session_id?: string, role: "user" | "assistant" | "system", status: string,
 *   content: string, error?: string | null, model?: string | null, created_at?: number,
 *   completed_at?: number | null, context?: ContextItem[], parts?: Part[],
 *   attachments?: StoredAttachment[]}} Message
 * @typedef {{type: "file" | "folder" | "image", name: string, size: number, path?: string,
 *   mime?: string, data?: string}} StoredAttachment
 * @typedef {{id: string, kind: string, label: string, size: number, text: string}} Chip
 * @typedef {{id: string, title: string, updated_at?: number, message_count?: number}} SessionInfo
 * @typedef {{id: string, name: string, images?: boolean}} ModelInfo
 * @typedef {{
 *   get: (name: string) => any,
 *   set: (name: string, value: any) => void,
 *   on: (event: string, cb: (...args: any[]) => void) => void,
 *   off: (event?: string | null, cb?: ((...args: any[]) => void) | null) => void,
 *   send: (content: any, callbacks?: any, buffers?: any[]) => void,
 *   save_changes: () => void,
 * }} WidgetModel
 */

export {};
