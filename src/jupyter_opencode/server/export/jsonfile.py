"""The JSON export: everything about a session, versioned, streamed message by message."""

from __future__ import annotations

import json
import time
from typing import Any

from ..._version import __version__
from .options import FORMAT_NAME, FORMAT_VERSION, ExportOptions


def export_message(message: dict[str, Any]) -> dict[str, Any]:
    """A message as exported: every stored field but the session id."""
    return {key: value for key, value in message.items() if key != "session_id"}


class JsonRenderer:
    """``{"format", "version", "exported_at", "session", "messages": [...]}``."""

    def __init__(self, options: ExportOptions) -> None:
        self.options = options
        self._first = True

    def head(self, session: dict[str, Any]) -> str:
        """Everything but the messages, with the messages array opened."""
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "generator": f"jupyter-opencode {__version__}",
            "exported_at": time.time(),
            "options": {"context": self.options.context, "redact": self.options.redact},
            "session": session,
        }
        return json.dumps(header, ensure_ascii=False)[:-1] + ', "messages": [\n'

    def messages(self, batch: list[dict[str, Any]]) -> str:
        """A batch of messages, comma-separated from the ones before."""
        encoded = [json.dumps(export_message(m), ensure_ascii=False) for m in batch]
        if not encoded:
            return ""
        text = ("" if self._first else ",\n") + ",\n".join(encoded)
        self._first = False
        return text

    def tail(self) -> str:
        """Close the messages array and the document."""
        return "\n]}\n"
