"""What the chat panel sends to the kernel (listed in comm.py): prompts, actions, commands."""

from __future__ import annotations

import concurrent.futures
import functools
import logging
from typing import TYPE_CHECKING, Any

from . import comm, library, mentions, transfer
from .client import OpencodeRequestError
from .commands import KERNEL_COMMANDS, CommandError, context_count
from .reply import code_blocks

if TYPE_CHECKING:
    from .widget import Chat

log = logging.getLogger(__name__)

BROWSER_ACTIONS = ("edit", "rewind", "annotate")


def handle_browser_message(chat: Chat, content: Any) -> None:
    """Dispatch one custom message of the browser view."""
    if not isinstance(content, dict):
        return
    kind = content.get("type")
    if kind == "ready":
        chat.refresh_panel()
    elif kind == "send":
        send_text(chat, str(content.get("text", "")), attachments=content.get("attachments"))
    elif kind == "stop":
        failed = functools.partial(report_failure, chat)
        chat.client.abort(chat.session_id).add_done_callback(failed)
    elif kind == "permission":
        chat.client.reply_permission(
            chat.session_id, str(content.get("permission_id")), str(content.get("reply"))
        ).add_done_callback(functools.partial(report_failure, chat))
    elif kind == "answer":
        answers = content.get("answers")
        chat.client.answer_question(
            chat.session_id,
            str(content.get("question_id")),
            answers if isinstance(answers, list) else None,
        ).add_done_callback(functools.partial(report_failure, chat))
    elif kind == "remove_context":
        chat.remove_context(str(content.get("id")))
    elif kind == "load_older":
        chat.load_older(str(content.get("before", "")))
    elif kind == "switch":
        chat.load(str(content.get("session_id")))
    elif kind == "new":
        if content.get("keep_context") is not True:
            chat.remove_context()
        chat.new()
    elif kind == "fork":
        fork(chat)
    elif kind in BROWSER_ACTIONS:
        browser_action(chat, kind, content)
    elif kind == "retry":
        chat.client.retry()
    elif kind == "insert":
        insert_block(chat, content)
    elif kind == "command":
        run_command(chat, str(content.get("name", "")), str(content.get("arg", "")))
    elif kind == "attach":
        attach_items(chat, content.get("context"))
    elif kind == "opencode_command":
        command = (str(content.get("name", "")), str(content.get("arguments", "")))
        send_text(chat, f"/{command[0]} {command[1]}".strip(), command)
    elif kind == "cadence":
        chat.set_cadence(content.get("cadence_ms"))
    elif kind in ("find_files", "list_variables", "attach_variable"):
        mentions.answer(chat, kind, content)
    else:
        log.warning("jupyter-opencode: unknown message from the panel: %s", kind)


def attach_items(chat: Chat, items: Any) -> None:
    """Attach the context items the notebook page sends (an error, a cell, an output)."""
    fields = ("kind", "label", "text")
    valid = [
        {key: item[key] for key in fields}
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and all(isinstance(item.get(k), str) for k in fields)
    ]
    if valid:
        chat.attach_chips(valid)


def insert_block(chat: Chat, content: dict[str, Any]) -> None:
    """Insert a code block of an answer below the chat's cell: the kernel reads the code."""
    message_id, block = content.get("message_id"), content.get("block")
    message = next((m for m in chat.messages if m.get("id") == message_id), None)
    if message is None or message.get("role") != "assistant":
        blocks = []
    else:
        blocks = code_blocks(message.get("content") or "")
    if type(block) is not int or not 0 <= block < len(blocks):
        chat.notify("error", "Cannot insert: that code block is not in this conversation.")
        return
    code, run = blocks[block], content.get("run") is True
    chat.to_panel(comm.insert_cell(code, run, message_id=message_id, block=block))


def send_text(
    chat: Chat, text: str, command: tuple[str, str] | None = None, attachments: Any = None
) -> None:
    """Send what the user typed in the panel as a prompt (the panel ran any slash command of
    its own; ``command``: an opencode command, name and arguments; ``attachments``: files and
    images, checked by the server: a bad one comes back as a notice, and nothing is sent)."""
    if not text.strip():
        return
    if chat.answering:
        chat.notify("error", "Still answering: stop the current reply first.")
        return
    items = [a for a in attachments if isinstance(a, dict)] if isinstance(attachments, list) else []
    chat.post(text, command, items).add_done_callback(functools.partial(report_failure, chat))


def report_failure(chat: Chat, future: concurrent.futures.Future[Any]) -> None:
    """Turn a failed background request into a visible notice."""
    exc = future.exception()
    if exc is None:
        return
    if isinstance(exc, OpencodeRequestError) and exc.code == 409:
        chat.notify("error", "Still answering: stop the current reply first.")
    else:
        chat.notify("error", str(exc))


def run_command(chat: Chat, name: str, arg: str) -> None:
    """Execute a slash command the panel hands to the kernel (commands.py)."""
    try:
        if name not in KERNEL_COMMANDS:
            raise CommandError(f"Unknown command /{name}. Type /help for the list.")
        if name == "context":
            attach_cells(chat, context_count(arg))
        elif name == "export":
            transfer.download(chat, arg)
        else:
            library.run_command(chat, name, arg)
    except CommandError as exc:
        chat.notify("error", str(exc))


def attach_cells(chat: Chat, count: int) -> None:
    """Attach the last `count` recorded cells as chips."""
    if not chat.attach_cells(count):
        chat.notify("error", "No executed cell to attach yet.")


def fork(chat: Chat) -> None:
    """Continue in a server-side copy of this session (the same path as ``chat.fork()``)."""
    if not chat.messages:
        chat.notify("error", "Nothing to fork yet: send a message first.")
        return
    library.run_in_background(chat, "Fork", library.fork, None)


def browser_action(chat: Chat, kind: str, content: dict[str, Any]) -> None:
    """A per-message action of the panel: edit and resend, rewind to here, rate and note."""
    message_id = str(content.get("message_id", ""))
    if kind == "edit":
        text = str(content.get("text", ""))
        library.run_in_background(chat, "Edit and resend", library.edit, message_id, text)
    elif kind == "rewind":
        library.run_in_background(chat, "Rewind", library.rewind_to, message_id)
    else:
        rating = content.get("rating") if content.get("rating") in ("up", "down") else None
        note = str(content.get("note") or "")
        library.run_in_background(
            chat, "Saving the note", library.annotate, message_id, rating, note
        )
