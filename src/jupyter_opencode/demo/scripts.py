"""Deterministic scripted replies of the fake model, chosen by a directive in the user text.

Directives (the last one found in the last user message wins; none means ``echo``):

- ``[[echo]]``: Markdown that quotes the question, names a Python error seen in the text,
  and holds one fenced ``python`` block.
- ``[[long:N]]``: N tiny text chunks ``"w0 ", "w1 ", ...`` sent as fast as possible.
- ``[[slow:N:SECONDS]]``: N chunks ``"s0 ", "s1 ", ...`` with a delay between them.
- ``[[reasoning]]``: reasoning deltas (``reasoning_content``), then the echo reply.
- ``[[tool]]``: a ``bash`` tool call running ``echo tool-ok``; once the tool result is in
  the conversation, a text reply quoting the tool output.
- ``[[error400]]`` / ``[[error500]]``: an OpenAI-style error with that HTTP status.
- ``[[stall:N:SECONDS]]``: N chunks ``"t0 ", "t1 ", ...``, then silence for SECONDS, then the
  connection is cut without an ending (a model that hangs, then dies).
- ``Fix cell ID of PATH: it failed`` (the notebook page's Fix): reads the notebook, then edits
  that cell (the missing key or name spelled as the notebook does elsewhere), then says so.
- ``[[notebook TOOL {json args}]]`` (one or more, in order): calls the notebook tool
  ``jupyter_TOOL`` with those arguments, one call per step; once every call has its result,
  a text reply quoting each result (so a test sees what the agent was told).
  ``[[call TOOL {json args}]]`` does the same for any tool of opencode's own (``write``...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .fix import cell_source, fix_request, fixed_source, missing_name

MAX_CHUNKS = 100_000
TOOL_COMMAND = "echo tool-ok"
TOOL_OUTPUT = "tool-ok"
DEMO_CODE = "print('hello from the demo model')"
TITLE_MARKER = "title generator"

_DIRECTIVE = re.compile(
    r"\[\[(echo|long|slow|stall|reasoning|tool|error400|error500)(?::([^\]]*))?\]\]"
)
_NOTEBOOK_CALL = re.compile(r"\[\[(notebook|call) (\w+) (?=\{)")
NOTEBOOK_REPLY = "The tools said:"
TOOL_MEDIA = "Attached media from tool result"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ERROR_LINE = re.compile(
    r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning))(?::[ \t]*(.*))?$",
    re.MULTILINE,
)
_WORDS = re.compile(r"\s*\S+\s*|\s+")


@dataclass(frozen=True)
class Directive:
    """A parsed ``[[name:arg:arg]]`` directive."""

    name: str
    args: tuple[str, ...] = ()


@dataclass
class Reply:
    """What the fake model answers to one chat completion request."""

    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_call: dict[str, Any] | None = None
    delay: float = 0.0
    stall: float = 0.0
    status: int = 200
    error: dict[str, Any] | None = None


def parse_directive(user_text: str) -> Directive:
    """Return the last directive in ``user_text`` (``echo`` when there is none)."""
    matches = list(_DIRECTIVE.finditer(user_text))
    if not matches:
        return Directive("echo")
    last = matches[-1]
    args = tuple(last.group(2).split(":")) if last.group(2) else ()
    return Directive(last.group(1), args)


def question_of(user_text: str) -> str:
    """Return the question being asked: the last non-blank line, trimmed to 200 chars."""
    lines = [line.strip() for line in user_text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def error_seen(user_text: str) -> str | None:
    """Return the last ``SomeError: message`` line found in the text, if any."""
    matches = list(_ERROR_LINE.finditer(_ANSI.sub("", user_text)))
    if not matches:
        return None
    name, message = matches[-1].group(1), (matches[-1].group(2) or "").strip()
    return f"{name}: {message}" if message else name


def split_words(text: str) -> list[str]:
    """Split text into word-sized chunks whose concatenation is the text."""
    return _WORDS.findall(text)


def missing_key(user_text: str) -> tuple[str, str] | None:
    """(container, key) of a ``name['key']`` lookup in the text that failed with a KeyError."""
    error = error_seen(user_text) or ""
    match = re.match(r"KeyError: (['\"])(.+?)\1$", error)
    if match is None:
        return None
    key = re.escape(match.group(2))
    lookup = re.search(rf"([A-Za-z_]\w*)\[\s*['\"]{key}['\"]\s*\]", user_text)
    return (lookup.group(1), match.group(2)) if lookup else None


def echo_text(user_text: str) -> str:
    """Return the default Markdown reply to ``user_text``."""
    parts = [f"You asked: {question_of(user_text)}\n\n"]
    error = error_seen(user_text)
    code = DEMO_CODE
    if error:
        parts.append(f"The last cell raised {error}. Check the name or key it mentions.\n\n")
    if found := missing_key(user_text):
        name, key = found
        parts.append(f"`{name}` has no key `{key!r}`. List the keys it does have:\n\n")
        code = f"print(list({name}.keys()))"
    else:
        parts.append("Here is some code:\n\n")
    parts.append(f"```python\n{code}\n```\n")
    return "".join(parts)


def reasoning_chunks(user_text: str) -> list[str]:
    """Return the reasoning deltas sent before the text (only for ``[[reasoning]]``)."""
    if parse_directive(user_text).name != "reasoning":
        return []
    return split_words("Thinking about the question. Deciding on a short answer.")


def tool_reply_text(tool_output: str) -> str:
    """Return the text sent after the tool result came back."""
    return f"The command printed: {tool_output.strip()}\n"


def reply_chunks(user_text: str, tool_output: str | None = None) -> list[str]:
    """Return the text deltas the fake model streams for ``user_text``."""
    directive = parse_directive(user_text)
    if directive.name == "long":
        return [f"w{i} " for i in range(_count(directive, 0))]
    if directive.name == "slow":
        return [f"s{i} " for i in range(_count(directive, 0))]
    if directive.name == "stall":
        return [f"t{i} " for i in range(_count(directive, 0))]
    if directive.name in ("error400", "error500"):
        return []
    if directive.name == "tool":
        return [] if tool_output is None else split_words(tool_reply_text(tool_output))
    return split_words(echo_text(user_text))


def expected_text(user_text: str, tool_output: str | None = TOOL_OUTPUT) -> str:
    """Return the full final text of the assistant reply to ``user_text``."""
    return "".join(reply_chunks(user_text, tool_output))


def expected_reasoning(user_text: str) -> str:
    """Return the full reasoning text of the reply to ``user_text``."""
    return "".join(reasoning_chunks(user_text))


def title_for(user_text: str) -> str:
    """Return the deterministic session title for a conversation starting with ``user_text``."""
    words = _DIRECTIVE.sub("", question_of(user_text)).split()
    return " ".join(words[:6])[:50] or "Demo chat"


def plan_reply(messages: list[dict[str, Any]]) -> Reply:
    """Decide the reply to a chat completion request from its ``messages``."""
    if _is_title_request(messages):
        return Reply(text=[title_for(_last_user_text(messages))])
    user_text = _last_user_text(messages)
    if request := fix_request(user_text):
        return _fix_step(messages, user_text, *request)
    if calls := notebook_calls(user_text):
        return _notebook_step(messages, calls)
    directive = parse_directive(user_text)
    if directive.name == "error400":
        return Reply(status=400, error=_error("Scripted bad request", "invalid_request_error"))
    if directive.name == "error500":
        return Reply(status=500, error=_error("Scripted server failure", "server_error"))
    if directive.name == "tool":
        output = _tool_output_after_last_user(messages)
        if output is None:
            return Reply(tool_call=_bash_call(messages))
        return Reply(text=reply_chunks(user_text, output))
    delay = _seconds(directive) if directive.name == "slow" else 0.0
    stall = _seconds(directive) if directive.name == "stall" else 0.0
    return Reply(
        text=reply_chunks(user_text),
        reasoning=reasoning_chunks(user_text),
        delay=delay,
        stall=stall,
    )


def message_text(message: dict[str, Any]) -> str:
    """Return the text of a chat message whose content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user" and not message_text(message).startswith(TOOL_MEDIA):
            return message_text(message)
    return ""


def _is_title_request(messages: list[dict[str, Any]]) -> bool:
    return any(
        message.get("role") == "system" and TITLE_MARKER in message_text(message)
        for message in messages
    )


def _tool_output_after_last_user(messages: list[dict[str, Any]]) -> str | None:
    output = None
    for message in messages:
        if message.get("role") == "user":
            output = None
        elif message.get("role") == "tool":
            output = message_text(message)
    return output


def notebook_calls(user_text: str) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls (full tool name, arguments) asked for in ``user_text``, in order."""
    calls = []
    decoder = json.JSONDecoder()
    for match in _NOTEBOOK_CALL.finditer(user_text):
        try:  # the arguments may nest objects (a todo list): read one whole JSON value
            args, end = decoder.raw_decode(user_text, match.end())
        except ValueError:
            continue
        if isinstance(args, dict) and user_text.startswith("]]", end):
            prefix = "jupyter_" if match.group(1) == "notebook" else ""
            calls.append((prefix + match.group(2), args))
    return calls


def _tool_outputs_after_last_user(messages: list[dict[str, Any]]) -> list[str]:
    outputs: list[str] = []
    for message in messages:
        text = message_text(message)
        if message.get("role") == "user" and text.startswith(TOOL_MEDIA) and outputs:
            # opencode hands a tool's images to the model as a user message right after it.
            images = [p for p in message["content"] if p.get("type") == "image_url"]
            outputs[-1] += f" ({len(images)} image(s) attached)"
        elif message.get("role") == "user":
            outputs = []
        elif message.get("role") == "tool":
            outputs.append(text)
    return outputs


def _notebook_step(
    messages: list[dict[str, Any]], calls: list[tuple[str, dict[str, Any]]]
) -> Reply:
    outputs = _tool_outputs_after_last_user(messages)
    if len(outputs) < len(calls):
        name, args = calls[len(outputs)]
        return Reply(tool_call=_call(messages, len(outputs), name, args))
    lines = [NOTEBOOK_REPLY, *(f"- {output.strip()}" for output in outputs)]
    return Reply(text=split_words("\n".join(lines) + "\n"))


def _fix_step(messages: list[dict[str, Any]], user_text: str, path: str, cell_id: str) -> Reply:
    outputs = _tool_outputs_after_last_user(messages)
    if not outputs:
        return Reply(tool_call=_call(messages, 0, "jupyter_read_notebook", {"path": path}))
    if len(outputs) == 1:
        source, missing = cell_source(outputs[0], cell_id), missing_name(user_text)
        fixed = fixed_source(source, missing, outputs[0]) if source and missing else None
        if fixed is None:
            return Reply(text=split_words("I found no fix for that cell: look at the error.\n"))
        args = {"path": path, "cell": cell_id, "source": fixed}
        return Reply(tool_call=_call(messages, 1, "jupyter_edit_cell", args))
    said = outputs[-1].strip()
    return Reply(text=split_words(f"I corrected cell {cell_id}. {NOTEBOOK_REPLY}\n- {said}\n"))


def _call(
    messages: list[dict[str, Any]], step: int, name: str, args: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": f"call_nb_{len(messages)}_{step}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }


def _bash_call(messages: list[dict[str, Any]]) -> dict[str, Any]:
    arguments = {"command": TOOL_COMMAND, "description": "Print a test marker"}
    return {
        "id": f"call_fake_{len(messages)}",
        "type": "function",
        "function": {"name": "bash", "arguments": json.dumps(arguments)},
    }


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _count(directive: Directive, index: int) -> int:
    try:
        return max(0, min(MAX_CHUNKS, int(directive.args[index])))
    except (IndexError, ValueError):
        return 10


def _seconds(directive: Directive) -> float:
    try:
        return max(0.0, min(60.0, float(directive.args[1])))
    except (IndexError, ValueError):
        return 0.5
