"""What the chat panel sends to the kernel (comm.py lists the messages): prompts, actions, the
slash commands it executes, chip removal."""

from __future__ import annotations

import concurrent.futures
import functools
import logging
from typing import TYPE_CHECKING, Any

from . import comm, library, transfer
from .client import OpencodeConnectionError, OpencodeRequestError
from .commands import CommandError, context_count
from .context import cell_attachment
from .conversation import PAGE_SIZE
from .reply import code_blocks

if TYPE_CHECKING:
    from .widget import Chat

log = logging.getLogger(__name__)

LIBRARY_COMMANDS = ("rename", "search", "star", "tag", "template")
BROWSER_ACTIONS = ("edit", "rewind", "annotate")


def handle_browser_message(chat: Chat, content: Any) -> None:
    """Dispatch one custom message of the browser view."""
    if not isinstance(content, dict):
        return
    kind = content.get("type")
    if kind == "ready":
        chat._send_reset()
        chat._refresh_sessions()
        chat._refresh_models()
    elif kind == "send":
        send_text(chat, str(content.get("text", "")))
    elif kind == "stop":
        failed = functools.partial(report_failure, chat)
        chat._client.abort(chat.session_id).add_done_callback(failed)
    elif kind == "permission":
        chat._client.reply_permission(
            chat.session_id, str(content.get("permission_id")), str(content.get("reply"))
        ).add_done_callback(functools.partial(report_failure, chat))
    elif kind == "remove_context":
        remove_chip(chat, str(content.get("id")))
    elif kind == "load_older":
        load_older(chat, str(content.get("before", "")))
    elif kind == "switch":
        chat.load(str(content.get("session_id")))
    elif kind == "new":
        if content.get("keep_context") is not True:
            drop_context(chat)
        chat.new()
    elif kind == "fork":
        fork(chat)
    elif kind in BROWSER_ACTIONS:
        browser_action(chat, kind, content)
    elif kind == "retry":
        chat._client.retry()
    elif kind == "insert":
        insert_block(chat, content)
    elif kind == "command":
        run_command(chat, str(content.get("name", "")), str(content.get("arg", "")))
    else:
        log.warning("jupyter-opencode: unknown message from the panel: %s", kind)


def drop_context(chat: Chat) -> None:
    """Drop every pending context chip."""
    with chat._lock:
        chat._set(context=[])
        chat._auto_chip = None


def remove_chip(chat: Chat, chip_id: str) -> None:
    """Drop a pending context chip."""
    with chat._lock:
        chat._set(context=[c for c in chat._trait("context") if c.get("id") != chip_id])
        if chip_id == chat._auto_chip:
            chat._auto_chip = None


def insert_block(chat: Chat, content: dict[str, Any]) -> None:
    """Insert a code block of an answer below the chat's cell: the kernel reads the code."""
    message_id, block = content.get("message_id"), content.get("block")
    with chat._lock:
        message = chat._conversation.get(message_id) if isinstance(message_id, str) else None
    if message is None or message.get("role") != "assistant":
        blocks = []
    else:
        blocks = code_blocks(message.get("content") or "")
    if type(block) is not int or not 0 <= block < len(blocks):
        chat._notice("error", "Cannot insert: that code block is not in this conversation.")
        return
    chat._insert(blocks[block], content.get("run") is True, message_id=message_id, block=block)


def load_older(chat: Chat, before: str) -> None:
    """Send the page of messages before message `before`."""
    session_id = chat.session_id

    def loaded(future: concurrent.futures.Future[Any]) -> None:
        if future.exception() is not None:
            report_failure(chat, future)
            return
        page = future.result()
        with chat._lock:
            if session_id != chat.session_id:
                return
            older = chat._conversation.prepend(page.get("messages", []), bool(page.get("has_more")))
            chat._flush()
            chat.send(comm.older(older, chat._conversation.has_more))

    chat._client.list_messages(session_id, PAGE_SIZE, before or None).add_done_callback(loaded)


def send_text(chat: Chat, text: str) -> None:
    """Send what the user typed in the panel as a prompt (the panel ran any slash command)."""
    if not text.strip():
        return
    if chat._trait("busy"):
        chat._notice("error", "Still answering: stop the current reply first.")
        return
    chat._post(text).add_done_callback(functools.partial(report_failure, chat))


def report_failure(chat: Chat, future: concurrent.futures.Future[Any]) -> None:
    """Turn a failed background request into a visible notice."""
    exc = future.exception()
    if exc is None:
        return
    if isinstance(exc, OpencodeRequestError) and exc.code == 409:
        chat._notice("error", "Still answering: stop the current reply first.")
    else:
        chat._notice("error", str(exc))


def run_command(chat: Chat, name: str, arg: str) -> None:
    """Execute a slash command the panel hands to the kernel (commands.py)."""
    try:
        if name == "context":
            attach_cells(chat, context_count(arg))
        elif name == "export":
            transfer.download(chat, arg)
        elif name in LIBRARY_COMMANDS:
            library.run_command(chat, name, arg)
        else:
            raise CommandError(f"Unknown command /{name}. Type /help for the list.")
    except CommandError as exc:
        chat._notice("error", str(exc))


def attach_cells(chat: Chat, count: int) -> None:
    """Attach the last `count` recorded cells as chips."""
    records = chat._recorder.last(count) if chat._recorder is not None else []
    if not records:
        chat._notice("error", "No executed cell to attach yet.")
        return
    with chat._lock:
        chat._set(context=[*chat._trait("context"), *(cell_attachment(r) for r in records)])


def fork(chat: Chat) -> None:
    """Continue in a server-side copy of this session, when the server supports it."""
    if not chat._conversation.messages:
        chat._notice("error", "Nothing to fork yet: send a message first.")
        return

    def forked(future: concurrent.futures.Future[Any]) -> None:
        try:
            answer = future.result()
        except OpencodeRequestError as exc:
            if exc.code in (404, 405):
                chat._notice("error", "Forking is not available on this server.")
            else:
                chat._notice("error", f"Fork failed: {exc}")
            return
        except OpencodeConnectionError as exc:
            chat._notice("error", str(exc))
            return
        session = answer.get("session", answer) if isinstance(answer, dict) else {}
        if isinstance(session, dict) and session.get("id"):
            chat.load(session["id"])

    chat._client.fork(chat.session_id).add_done_callback(forked)


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
