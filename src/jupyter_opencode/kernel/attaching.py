"""Files and images given to ``chat.ask``, as the attachments a prompt carries."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _root(notebook: str | None) -> Path:
    """The server's root seen from here: the working directory less the notebook's folder."""
    cwd = Path.cwd()
    if not notebook or os.path.isabs(notebook):
        return cwd
    depth = len(Path(notebook).parent.parts)
    return cwd.parents[depth - 1] if 0 < depth <= len(cwd.parents) else cwd


def file_attachment(path: str | os.PathLike[str], notebook: str | None) -> dict[str, Any]:
    """A file or folder (relative to the notebook's folder, or absolute) named from the root."""
    absolute = Path.cwd() / Path(path)
    relative = os.path.relpath(absolute.resolve(), _root(notebook).resolve())
    return {"type": "file", "path": Path(relative).as_posix()}


def _mime(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    raise ValueError("images must be PNG, JPEG, GIF or WebP (bytes, a path or a figure)")


def image_attachment(image: object) -> dict[str, Any]:
    """A Matplotlib figure, image bytes or an image file's path as an inline image."""
    name = "image"
    if isinstance(image, (str, os.PathLike)):
        name = Path(image).name
        data = Path(image).read_bytes()
    elif isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
    elif hasattr(image, "savefig"):
        buffer = io.BytesIO()
        image.savefig(buffer, format="png", bbox_inches="tight")
        name, data = "figure.png", buffer.getvalue()
    else:
        raise TypeError(f"cannot send a {type(image).__name__} as an image")
    return {
        "type": "image",
        "mime": _mime(data),
        "data": base64.b64encode(data).decode(),
        "name": name,
    }


def prompt_attachments(
    files: Iterable[str | os.PathLike[str]], images: Iterable[object], notebook: str | None
) -> list[dict[str, Any]]:
    """Every file and image of one prompt, files first."""
    return [
        *(file_attachment(f, notebook) for f in files),
        *(image_attachment(i) for i in images),
    ]
