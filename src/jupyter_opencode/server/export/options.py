"""What an export is asked for: the format, its options, and the file name it is sent under."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

FORMAT_VERSION = 1
"""Version of the JSON export; an import reads exactly this version."""

FORMAT_NAME = "jupyter-opencode.session"

MEDIA_TYPES: dict[str, str] = {
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "ipynb": "application/x-ipynb+json",
}
FORMATS = tuple(MEDIA_TYPES)


@dataclass(frozen=True)
class ExportOptions:
    """Options shared by every format."""

    timestamps: bool = True
    context: bool = True
    redact: bool = False


_RESERVED = re.compile(r'[<>:"/\\|?*]')
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(title: str, extension: str) -> str:
    """The Unicode file name of an export: no path separators, reserved or control characters."""
    words = " ".join(title.split())
    visible = "".join(ch for ch in words if unicodedata.category(ch)[0] != "C")
    stem = _RESERVED.sub("-", visible)[:80].strip(" .-")
    return f"{stem or 'conversation'}.{extension}"


def content_disposition(title: str, extension: str) -> str:
    """An RFC 6266 attachment header: an ASCII ``filename`` and a UTF-8 ``filename*``."""
    name = file_name(title, extension)
    stem = unicodedata.normalize("NFKD", name[: -len(extension) - 1])
    ascii_stem = _NOT_ASCII_SAFE.sub("_", stem.encode("ascii", "ignore").decode()).strip("._-")
    return (
        f'attachment; filename="{ascii_stem or "conversation"}.{extension}"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )
