"""Exporting the chat's session to a file or the browser, and importing a JSON export."""

from __future__ import annotations

import concurrent.futures
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..server.export.options import FORMATS
from . import comm
from .client import OpencodeConnectionError, OpencodeRequestError, ServerClient
from .commands import CommandError

if TYPE_CHECKING:
    from .widget import Chat


def check_format(fmt: str) -> str:
    """A known export format (lower case), or CommandError."""
    fmt = (fmt or "md").lower().lstrip(".")
    if fmt not in FORMATS:
        raise CommandError(f"Export formats: {', '.join(FORMATS)} (not {fmt!r}).")
    return fmt


def notebook_dir() -> Path:
    """The folder of the notebook this kernel runs (its working folder when unknown)."""
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session and Path(session).is_file():
        return Path(session).resolve().parent
    return Path.cwd()


def _free(path: Path) -> Path:
    """``path``, or ``name (2).ext`` and so on when it exists: an export never overwrites."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem} ({number}){path.suffix}")
    return candidate


def save_export(
    client: ServerClient,
    session_id: str,
    fmt: str,
    path: str | os.PathLike[str] | None,
    options: dict[str, bool],
) -> Path:
    """Write the session's export to ``path`` (a file or folder; default: beside the notebook)."""
    try:
        data, name, _ = client.export(session_id, check_format(fmt), options).result(
            client.request_timeout + 5
        )
    except OpencodeRequestError as exc:
        if exc.code == 404:
            raise ValueError("Nothing to export yet: this conversation has no message.") from exc
        raise
    if path is None or Path(path).is_dir() or str(path).endswith(("/", os.sep)):
        folder = Path(path).expanduser() if path is not None else notebook_dir()
        folder.mkdir(parents=True, exist_ok=True)
        target = _free(folder / name)
    else:
        target = Path(path).expanduser()
    target.write_bytes(data)
    return target


def download(chat: Chat, fmt: str) -> None:
    """`/export FORMAT`: hand the export to the browser as a file download."""
    fmt = check_format(fmt)

    def exported(future: concurrent.futures.Future[Any]) -> None:
        try:
            data, name, media_type = future.result()
        except OpencodeRequestError as exc:
            text = "Nothing to export yet: send a message first." if exc.code == 404 else str(exc)
            chat.notify("error", f"Export failed: {text}")
            return
        except OpencodeConnectionError as exc:
            chat.notify("error", str(exc))
            return
        chat.to_panel(comm.download(name, media_type), [data])
        chat.notify("info", f"Exported {name}")

    chat.client.export(chat.session_id, fmt).add_done_callback(exported)


def import_file(client: ServerClient, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Import a JSON export file as a new session on the server; the new session."""
    data = Path(path).expanduser().read_bytes()
    try:
        answer = client.import_session(data).result(client.request_timeout + 5)
    except OpencodeRequestError as exc:
        raise ValueError(f"{path} cannot be imported: {exc}") from exc
    session: dict[str, Any] = answer["session"]
    return session
