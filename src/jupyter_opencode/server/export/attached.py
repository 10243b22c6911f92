"""Files and images sent with a message, as every export shows them: names, sizes, pictures."""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

log = logging.getLogger(__name__)

# Word and PDF documents embed these as they are; other images are converted to PNG first.
_EMBEDDABLE = ("image/png", "image/jpeg", "image/gif")


def size_label(size: int) -> str:
    """A byte count as people read it."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} kB"
    return f"{size / 1024 / 1024:.1f} MB"


def attachments_markdown(items: list[dict[str, Any]]) -> str:
    """One line naming the attachments with their sizes ('' when there are none)."""
    if not items:
        return ""
    names = []
    for item in items:
        name = str(item.get("path") or item.get("name") or "")
        if item.get("type") == "folder":
            names.append(f"`{name}/` (folder)")
        else:
            kind = "image, " if item.get("type") == "image" else ""
            names.append(f"`{name}` ({kind}{size_label(int(item.get('size') or 0))})")
    return "**Attached:** " + ", ".join(names)


def images(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A message's image attachments (with their data)."""
    return [
        a for a in message.get("attachments") or [] if a.get("type") == "image" and a.get("data")
    ]


def image_bytes(item: dict[str, Any]) -> bytes | None:
    """An image as PNG, JPEG or GIF bytes for Word and PDF; None when it cannot be read."""
    raw = base64.b64decode(item["data"])
    if item.get("mime") in _EMBEDDABLE:
        return raw
    from PIL import Image, UnidentifiedImageError  # only exports of WebP images need it

    try:
        with Image.open(io.BytesIO(raw)) as picture:
            out = io.BytesIO()
            picture.save(out, "PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError):
        log.warning("image %s could not be read for the export", item.get("name"), exc_info=True)
        return None
