// The slash commands of the chat, written once for both hosts: names, help, how arguments are
// read and checked, and what the user sees when one cannot run. Each runs through the host's
// capabilities (CommandHost); one that needs a kernel says so, and a host without
// one offers the nearest equivalent.

/** Export formats (jupyter_opencode/server/export/options.py). */
export const EXPORT_FORMATS = ["md", "txt", "json", "html", "pdf", "docx", "ipynb"];
const MAX_CONTEXT_CELLS = 50;

/**
 * What a host does for the commands; `kernel` says whether it has the notebook's kernel.
 * @typedef {{
 *   kernel: boolean,
 *   newChat: (keepContext: boolean) => void, fork: () => void,
 *   attachCells: (count: number) => void, setModel: (id: string) => void,
 *   exportAs: (format: string) => void, search: (query: string) => void,
 *   rewind: (messageId: string) => void, rename: (title: string) => void,
 *   star: () => void, tag: (name: string) => void, template: (name: string) => void,
 *   compact: () => void,
 *   opencodeCommand: (name: string, args: string) => void,
 * }} CommandHost
 */

/**
 * What a command may read and show: the client it runs in.
 * @typedef {{
 *   host: CommandHost, notice: (level: "info" | "error", text: string) => void,
 *   messageCount: () => number, lastUserMessage: () => {id: string} | null,
 *   models: () => {id: string, name: string}[], model: () => string,
 *   useModel: (id: string) => void,
 *   opencodeCommands: () => {name: string, description: string}[],
 * }} CommandContext
 */

/**
 * One command. `needs: "kernel"` marks what only the notebook's kernel can do exactly; `without`
 * is the help of the nearest equivalent a host without a kernel runs instead.
 * @typedef {{name: string, args: string, help: string, needs?: "kernel", without?: string,
 *   run: (ctx: CommandContext, arg: string) => void}} Command
 */

/** @param {string} what */
const fail = (what) => {
  throw new CommandError(what);
};

export class CommandError extends Error {}

/** @type {Command[]} */
export const COMMANDS = [
  {
    name: "/new",
    args: "",
    help: "Start a new conversation (the pending context stays)",
    run: (ctx) => ctx.host.newChat(true),
  },
  {
    name: "/clear",
    args: "",
    help: "Start a new conversation and drop the pending context",
    run: (ctx) => ctx.host.newChat(false),
  },
  {
    name: "/fork",
    args: "",
    help: "Continue in a copy of this conversation",
    run: (ctx) => (ctx.messageCount() ? ctx.host.fork() : fail("Nothing to fork yet: send a message first.")),
  },
  {
    name: "/context",
    args: " ",
    help: "Attach the last N executed cells: /context N (default 1)",
    needs: "kernel",
    without: "Attach the last N cells up to the active one of the current notebook: /context N",
    run: (ctx, arg) => ctx.host.attachCells(contextCount(arg)),
  },
  {
    name: "/model",
    args: " ",
    help: "Use a model: /model ID (without ID: list the models)",
    run: chooseModel,
  },
  {
    name: "/export",
    args: " ",
    help: `Download this conversation: /export ${EXPORT_FORMATS.join("|")}`,
    run: (ctx, arg) => ctx.host.exportAs(exportFormat(arg)),
  },
  {
    name: "/search",
    args: " ",
    help: "Search every conversation: /search WORDS",
    run: (ctx, arg) => ctx.host.search(arg || fail("/search needs something to look for: /search WORDS")),
  },
  {
    name: "/compact",
    args: "",
    help: "Summarize the conversation so far; later prompts go on from the summary",
    run: (ctx) => (ctx.messageCount() ? ctx.host.compact() : fail("Nothing to compact yet: send a message first.")),
  },
  {
    name: "/rewind",
    args: "",
    help: "Take back the last exchange",
    run: (ctx) => {
      const last = ctx.lastUserMessage();
      if (last) ctx.host.rewind(last.id);
      else ctx.notice("info", "Nothing to take back.");
    },
  },
  {
    name: "/rename",
    args: " ",
    help: "Rename this conversation: /rename TITLE",
    run: (ctx, arg) => ctx.host.rename(arg || fail("/rename needs an argument: /rename TITLE")),
  },
  {
    name: "/star",
    args: "",
    help: "Star or unstar this conversation",
    run: (ctx) => ctx.host.star(),
  },
  {
    name: "/tag",
    args: " ",
    help: "Tag this conversation: /tag NAME (/tag -NAME removes it)",
    run: (ctx, arg) => ctx.host.tag(arg || fail("/tag needs an argument: /tag NAME")),
  },
  {
    name: "/template",
    args: " ",
    help: "Start with a template: /template NAME (without NAME: list them)",
    run: (ctx, arg) =>
      arg && ctx.messageCount() ? fail("A template starts a conversation: type /new first.") : ctx.host.template(arg),
  },
  {
    name: "/help",
    args: "",
    help: "List the commands",
    run: (ctx) => ctx.notice("info", helpText(ctx.host)),
  },
];

/**
 * The commands as a host offers them (its help where it runs the nearest equivalent).
 * @param {CommandHost} host
 * @returns {{name: string, args: string, help: string}[]}
 */
export function menu(host) {
  return COMMANDS.map((c) => ({ name: c.name, args: c.args, help: helpOf(c, host) }));
}

/**
 * @param {Command} command
 * @param {CommandHost} host
 */
function helpOf(command, host) {
  return command.needs === "kernel" && !host.kernel && command.without ? command.without : command.help;
}

/** @param {CommandHost} host */
export function helpText(host) {
  return ["Commands:", ...COMMANDS.map((c) => `${c.name}: ${helpOf(c, host)}`)].join("\n");
}

/**
 * Run what the user typed as a command: false when it is not one (an ordinary message).
 * @param {string} text
 * @param {CommandContext} ctx
 * @returns {boolean}
 */
export function runCommand(text, ctx) {
  const stripped = text.trim();
  if (!stripped.startsWith("/") || stripped.startsWith("//")) return false;
  const [word, ...rest] = stripped.split(/\s+/);
  const name = word.toLowerCase();
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (command) command.run(ctx, rest.join(" ").trim());
    else if (isOpencodeCommand(stripped, ctx)) ctx.host.opencodeCommand(word.slice(1), rest.join(" ").trim());
    else fail(`Unknown command ${name}. Type /help for the list.`);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    ctx.notice("error", error.message);
  }
  return true;
}

/**
 * Whether the text runs one of opencode's commands (the user's own, MCP prompts): a `/NAME`
 * that is not a command of ours.
 * @param {string} text
 * @param {CommandContext} ctx
 */
export function isOpencodeCommand(text, ctx) {
  const word = text.trim().split(/\s+/)[0];
  if (!word.startsWith("/") || COMMANDS.some((c) => c.name === word.toLowerCase())) return false;
  return ctx.opencodeCommands().some((c) => c.name === word.slice(1));
}

/**
 * The slash menu entries of opencode's commands.
 * @param {{name: string, description: string}[]} commands
 */
export function opencodeMenu(commands) {
  const ours = new Set(COMMANDS.map((c) => c.name));
  return commands
    .filter((c) => !ours.has(`/${c.name.toLowerCase()}`))
    .map((c) => ({ name: `/${c.name}`, args: " ", help: c.description || "opencode command" }));
}

/**
 * The N of `/context N`.
 * @param {string} arg
 * @returns {number}
 */
export function contextCount(arg) {
  if (!arg) return 1;
  const count = Number(arg);
  if (!Number.isInteger(count)) fail(`/context expects a number of cells, not "${arg}".`);
  if (count < 1 || count > MAX_CONTEXT_CELLS) {
    fail(`/context expects a number of cells between 1 and ${MAX_CONTEXT_CELLS}.`);
  }
  return count;
}

/**
 * The format of `/export FORMAT` (default md).
 * @param {string} arg
 * @returns {string}
 */
export function exportFormat(arg) {
  const format = (arg || "md").toLowerCase().replace(/^\./, "");
  if (!EXPORT_FORMATS.includes(format)) fail(`Export formats: ${EXPORT_FORMATS.join(", ")} (not "${format}").`);
  return format;
}

/**
 * `/model ID` picks a model, `/model` lists them.
 * @param {CommandContext} ctx
 * @param {string} id
 */
function chooseModel(ctx, id) {
  const known = ctx.models().map((m) => m.id);
  if (!id) {
    const listing = known.map((m) => `${m === ctx.model() ? "* " : "  "}${m}`).join("\n");
    ctx.notice("info", known.length ? `Models:\n${listing}` : "No model list available.");
  } else if (known.length && !known.includes(id)) {
    fail(`Unknown model ${id}. Type /model to list them.`);
  } else {
    ctx.useModel(id);
    ctx.notice("info", `Model: ${id}`);
  }
}
