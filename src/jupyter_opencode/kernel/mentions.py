"""The panel's @ menu, answered by the kernel: files from the server, variables from here."""

from __future__ import annotations

import concurrent.futures
import logging
from typing import TYPE_CHECKING, Any

from IPython import get_ipython

from . import comm
from .variables import list_variables

if TYPE_CHECKING:
    from .widget import Chat

log = logging.getLogger(__name__)

FILES_LIMIT = 20


def _namespace() -> dict[str, Any]:
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def answer(chat: Chat, kind: str, content: dict[str, Any]) -> None:
    """Answer one request of the @ menu (a failure answers an empty list, and is logged)."""
    request = content.get("request")
    if kind == "attach_variable":
        name = str(content.get("name", ""))
        namespace = _namespace()
        if name in namespace:
            chat.attach(namespace[name], name)
        else:
            chat.notify("error", f"No variable {name!r} in this kernel.")
    elif type(request) is int and kind == "list_variables":
        chat.to_panel(comm.found(request, list_variables(_namespace())))
    elif type(request) is int:
        query = str(content.get("query", ""))
        params = {"q": query, "limit": FILES_LIMIT}
        future = chat.client.request("GET", "files", params=params)
        future.add_done_callback(lambda done: _send_files(chat, request, done))


def _send_files(chat: Chat, request: int, done: concurrent.futures.Future[Any]) -> None:
    try:
        files = list(done.result()["files"])
    except Exception:
        log.warning("jupyter-opencode: the @ menu could not list files", exc_info=True)
        files = []
    chat.to_panel(comm.found(request, files))
