"""The session library from the kernel: search, branches, rewind, notes, organizing, templates."""

from __future__ import annotations

import concurrent.futures
import logging
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..server.protocol import rewind_frame
from . import comm
from .client import OpencodeConnectionError, OpencodeRequestError
from .commands import CommandError

if TYPE_CHECKING:
    from .widget import Chat

log = logging.getLogger(__name__)

SEARCH_LIMIT = 20


def notebook_path() -> str | None:
    """The notebook this kernel runs for, as the Jupyter server named it (None elsewhere)."""
    return os.environ.get("JPY_SESSION_NAME") or None


def session_path(session_id: str, *rest: str) -> str:
    """A REST path under ``sessions/{id}``."""
    return "/".join(["sessions", quote(session_id, safe=""), *(quote(p, safe="") for p in rest)])


def _wait(chat: Chat, future: concurrent.futures.Future[Any]) -> Any:
    return future.result(chat.client.request_timeout + 5)


def search(chat: Chat, query: str, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Search hits over every session, best first."""
    params = {"q": query, "limit": limit}
    return list(_wait(chat, chat.client.request("GET", "search", params=params))["hits"])


def fork(chat: Chat, message_id: str | None) -> str:
    """Branch the current session (at a message, default all) and switch to the branch."""
    body = {"message_id": message_id} if message_id else {}
    future = chat.client.request("POST", session_path(chat.session_id, "fork"), body)
    session = _wait(chat, future)["session"]
    chat.load(session["id"])
    return str(session["id"])


def user_messages(chat: Chat) -> list[dict[str, Any]]:
    """Every user message of the current session, oldest first (read from the server)."""
    messages: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        page = _wait(chat, chat.client.list_messages(chat.session_id, 500, before))
        messages[:0] = page.get("messages", [])
        if not page.get("has_more") or not page.get("messages"):
            break
        before = page["messages"][0]["id"]
    return [m for m in messages if m.get("role") == "user"]


REWOUND_CHANGES = (
    "The answers taken back had changed notebooks: their changes stay until you click"
    ' "Undo notebook changes" in the chat panel (in JupyterLab).'
)
REWOUND_FILES = (
    "The answers taken back had changed files: their changes stay until you click"
    ' "Undo file changes" in the chat panel (in JupyterLab), or POST'
    " sessions/{sid}/messages/{mid}/files/undo for each of: "
)


def rewind(chat: Chat, count: int) -> list[str]:
    """Take back the last ``count`` exchanges; the ids of the removed messages.

    Says so when the removed answers changed notebooks or files, and how to undo that.
    """
    removed, changed, files = _rewind_to(chat, _exchange_start(chat, count))
    if changed:
        print(REWOUND_CHANGES)
    if files:
        print(REWOUND_FILES + ", ".join(files))
    return removed


def _exchange_start(chat: Chat, count: int) -> str:
    """The id of the user message starting the ``count``-th last exchange."""
    if count < 1:
        raise ValueError("rewind takes back at least one exchange")
    users = user_messages(chat)
    if not users:
        raise ValueError("nothing to rewind: this conversation has no messages yet")
    return str(users[-min(count, len(users))]["id"])


def rewind_to(chat: Chat, message_id: str) -> list[str]:
    """Remove a message and every later one (the panel follows by the server's rewind frame)."""
    return _rewind_to(chat, message_id)[0]


def _rewind_to(chat: Chat, message_id: str) -> tuple[list[str], list[str], list[str]]:
    """The removed ids, and those of removed answers whose notebook or file changes are not
    undone."""
    future = chat.client.request("DELETE", session_path(chat.session_id, "messages", message_id))
    body = _wait(chat, future)
    removed, changed = list(body["removed"]), list(body.get("notebook_changes") or [])
    files = list(body.get("file_changes") or [])
    on_rewind(chat, removed, changed, files)
    return removed, changed, files


def on_rewind(chat: Chat, removed: list[str], changed: list[str], files: list[str]) -> None:
    """Show our own rewind in the panel at once (the server's frame follows, as a no-op).

    When removed answers changed notebooks or files, the panel offers to undo that.
    """
    chat.apply_frame(rewind_frame(chat.session_id, removed, changed, file_changes=files))


def edit(chat: Chat, message_id: str, text: str) -> str:
    """Resend an edited user message in a new branch; switch to it and return its id."""
    future = chat.client.request(
        "POST", session_path(chat.session_id, "messages", message_id, "edit"), {"text": text}
    )
    session_id = str(_wait(chat, future)["session"]["id"])
    chat.load(session_id)
    return session_id


def annotate(chat: Chat, message_id: str, rating: str | None, note: str) -> dict[str, Any] | None:
    """Rate a message and keep a note on it; the panel shows it."""
    future = chat.client.request(
        "PUT",
        session_path(chat.session_id, "messages", message_id, "annotation"),
        {"rating": rating, "note": note},
    )
    annotation: dict[str, Any] | None = _wait(chat, future)["annotation"]
    chat.keep_annotation(message_id, annotation)
    return annotation


def organize(chat: Chat, **changes: Any) -> dict[str, Any]:
    """Change the session's title, starred, archived or tags."""
    future = chat.client.request("PATCH", session_path(chat.session_id), changes)
    session: dict[str, Any] = _wait(chat, future)
    if "title" in changes:
        chat.update_traits(title=session.get("title") or "")
    return session


def session_info(chat: Chat) -> dict[str, Any] | None:
    """The current session as the server has it (None before its first message)."""
    try:
        info: dict[str, Any] = _wait(
            chat, chat.client.request("GET", session_path(chat.session_id))
        )
    except OpencodeRequestError as exc:
        if exc.code == 404:
            return None
        raise
    return info


def templates(chat: Chat) -> list[dict[str, Any]]:
    """The templates on the server."""
    return list(_wait(chat, chat.client.request("GET", "templates"))["templates"])


def run_in_background(chat: Chat, what: str, work: Any, *args: Any) -> None:
    """Run a blocking library call off the kernel's main thread; failures become notices."""

    def run() -> None:
        try:
            work(chat, *args)
        except (OpencodeConnectionError, OpencodeRequestError, ValueError) as exc:
            chat.notify("error", f"{what} failed: {exc}")
        except Exception as exc:
            log.error("jupyter-opencode: %s failed", what, exc_info=True)
            chat.notify("error", f"{what} failed: {exc}")

    _executor.submit(run)


_executor = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="opencode-lib")


def run_command(chat: Chat, name: str, arg: str) -> None:
    """Run a library slash command (network work off the kernel's main thread)."""
    if name in ("rename", "tag") and not arg:
        raise CommandError(f"/{name} needs an argument: /{name} NAME")
    if name == "search" and not arg:
        raise CommandError("/search needs something to look for: /search WORDS")
    work = {
        "compact": _compact,
        "rename": _rename,
        "search": _search,
        "star": _star,
        "tag": _tag,
        "template": _template,
    }[name]
    run_in_background(chat, f"/{name}", work, arg)


def _existing(chat: Chat) -> dict[str, Any]:
    info = session_info(chat)
    if info is None:
        raise ValueError("this conversation is not saved yet: send a message first")
    return info


def _compact(chat: Chat, _arg: str) -> None:
    _existing(chat)
    _wait(chat, chat.client.request("POST", session_path(chat.session_id, "compact"), {}))
    chat.notify("info", "Conversation compacted")


def _rename(chat: Chat, title: str) -> None:
    _existing(chat)
    organize(chat, title=title)
    chat.notify("info", f"Renamed to {title}")


def _search(chat: Chat, query: str) -> None:
    hits = search(chat, query)
    chat.to_panel(comm.search_results(query, hits))


def _star(chat: Chat, _arg: str) -> None:
    starred = not _existing(chat)["starred"]
    organize(chat, starred=starred)
    chat.notify("info", "Starred" if starred else "Unstarred")


def _tag(chat: Chat, arg: str) -> None:
    tags = list(_existing(chat)["tags"])
    if arg.startswith("-"):
        tags = [t for t in tags if t != arg[1:].strip()]
    elif arg not in tags:
        tags.append(arg)
    session = organize(chat, tags=tags)
    chat.notify("info", "Tags: " + (", ".join(session["tags"]) or "none"))


def _template(chat: Chat, name: str) -> None:
    known = templates(chat)
    if not name:
        listing = "\n".join(
            f"{t['name']}: {t.get('agent') or 'default agent'}, {t.get('model') or 'default model'}"
            for t in known
        )
        chat.notify("info", f"Templates:\n{listing}" if known else "No templates yet.")
        return
    if name not in {t["name"] for t in known}:
        raise ValueError(f"no template named {name!r}; /template lists them")
    chat.use_template(name)
    chat.notify("info", f"Template {name} applies to your first message")
