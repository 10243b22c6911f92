"""Files and images attached to a prompt: checked against the root, stored, sent as file parts.

A request names ``{"type": "file", "path"}`` (relative to the Jupyter root) or
``{"type": "image", "mime", "data"}`` (base64). :func:`resolve` checks every one before
anything is saved or sent (:class:`AttachmentError` says which and why); what it returns is
stored with the user message (names, sizes, and an image's data for exports) and turned into
opencode file parts by :func:`opencode_parts`.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

IMAGE_TYPES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
}
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 20
MAX_LISTING = 500
_SNIFF_BYTES = 8192


class AttachmentError(ValueError):
    """An attachment that cannot be sent: the HTTP status, reason and message say why."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def resolve(items: list[dict[str, Any]], root: str) -> list[dict[str, Any]]:
    """The stored form of each requested attachment, or an :class:`AttachmentError`."""
    if len(items) > MAX_ATTACHMENTS:
        raise AttachmentError(
            400, "too_many_attachments", f"at most {MAX_ATTACHMENTS} attachments per message"
        )
    return [
        _file(item["path"], Path(root)) if item["type"] == "file" else _image(item)
        for item in items
    ]


def _file(path: str, root: Path) -> dict[str, Any]:
    try:
        return _read_file(path, root)
    except OSError as e:  # unreadable: permissions, or removed while being read
        raise AttachmentError(
            400, "unreadable_file", f"{path!r} cannot be read: {e.strerror}"
        ) from e


def _inside(path: str, root: Path) -> Path:
    if not path or os.path.isabs(path) or path.startswith(("/", "\\")):
        raise AttachmentError(
            400, "path_outside_root", f"{path!r}: give a path relative to the Jupyter root"
        )
    base = root.resolve()
    try:
        target = (base / path).resolve()
        inside = target == base or base in target.parents
        found = inside and target.exists()
    except (OSError, ValueError) as e:  # a NUL byte, a name too long for the file system
        raise AttachmentError(400, "bad_path", f"{path[:200]!r} is not a usable path") from e
    if not inside:
        raise AttachmentError(
            400, "path_outside_root", f"{path!r} is outside the Jupyter root (.. or a symlink)"
        )
    if not found:
        raise AttachmentError(400, "file_not_found", f"{path!r}: no such file or folder")
    return target


def _read_file(path: str, root: Path) -> dict[str, Any]:
    target = _inside(path, root)
    name = target.name or path
    if target.is_dir():
        return {"type": "folder", "name": name, "path": path, "size": 0, "mime": "inode/directory"}
    size = target.stat().st_size
    mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if mime in IMAGE_TYPES:
        if size > MAX_IMAGE_BYTES:
            raise _too_large(path, size, MAX_IMAGE_BYTES)
        data = base64.b64encode(target.read_bytes()).decode()
        return {
            "type": "image",
            "name": name,
            "path": path,
            "size": size,
            "mime": mime,
            "data": data,
        }
    if size > MAX_FILE_BYTES:
        raise _too_large(path, size, MAX_FILE_BYTES)
    with target.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if b"\0" in head:
        raise AttachmentError(
            400,
            "unsupported_attachment",
            f"{path!r} is a binary file ({mime}): attach text files, folders or images",
        )
    return {"type": "file", "name": name, "path": path, "size": size, "mime": "text/plain"}


def _too_large(what: str, size: int, limit: int) -> AttachmentError:
    return AttachmentError(
        413,
        "attachment_too_large",
        f"{what!r} is {size} bytes; the limit is {limit} bytes",
    )


def _image(item: dict[str, Any]) -> dict[str, Any]:
    mime = item["mime"]
    name = item.get("name") or f"image{IMAGE_TYPES.get(mime, '')}"
    if mime not in IMAGE_TYPES:
        raise AttachmentError(
            400,
            "unsupported_attachment",
            f"{name!r}: {mime!r} is not an image type sent to models ("
            + ", ".join(IMAGE_TYPES)
            + ")",
        )
    # Checked before decoding: base64 is 4/3 of the bytes it holds.
    if len(item["data"]) * 3 // 4 > MAX_IMAGE_BYTES + 3:
        raise _too_large(name, len(item["data"]) * 3 // 4, MAX_IMAGE_BYTES)
    try:
        raw = base64.b64decode(item["data"], validate=True)
    except (binascii.Error, ValueError) as e:
        raise AttachmentError(400, "bad_image", f"{name!r}: data is not base64") from e
    if len(raw) > MAX_IMAGE_BYTES:
        raise _too_large(name, len(raw), MAX_IMAGE_BYTES)
    data = base64.b64encode(raw).decode()
    return {"type": "image", "name": name, "size": len(raw), "mime": mime, "data": data}


def _listing(folder: Path) -> str:
    entries = sorted(folder.iterdir(), key=lambda p: (p.name.startswith("."), p.name.lower()))
    lines = [p.name + ("/" if p.is_dir() else "") for p in entries[:MAX_LISTING]]
    if len(entries) > MAX_LISTING:
        lines.append(f"... and {len(entries) - MAX_LISTING} more")
    return "\n".join(lines)


def opencode_parts(attachments: Sequence[dict[str, Any]], root: str) -> list[dict[str, Any]]:
    """opencode's file parts for stored attachments: text by path, folders listed, images inline."""
    parts: list[dict[str, Any]] = []
    for item in attachments:
        if item["type"] == "image":
            url = f"data:{item['mime']};base64,{item['data']}"
            parts.append(
                {"type": "file", "mime": item["mime"], "url": url, "filename": item["name"]}
            )
        elif item["type"] == "folder":
            text = _listing(Path(root, item["path"]))
            parts.append(
                {"type": "text", "text": f'<folder path="{item["path"]}">\n{text}\n</folder>'}
            )
        else:
            url = Path(root, item["path"]).resolve().as_uri()
            parts.append(
                {"type": "file", "mime": "text/plain", "url": url, "filename": item["path"]}
            )
    return parts
