"""HTTP and WebSocket routes of the extension, relative to ``{base_url}opencode/``."""

from __future__ import annotations

from typing import Any

from .notebook import LiveNotebookHandler, NotebookToolHandler, NotebookUndoHandler
from .rest import (
    AbortHandler,
    ForkHandler,
    MessagesHandler,
    ModelsHandler,
    OpenAPIHandler,
    PermissionHandler,
    SessionHandler,
    SessionsHandler,
    StatusHandler,
)
from .stream import StreamHandler

_SID = r"(?P<sid>[^/]+)"

ROUTES: list[tuple[str, Any]] = [
    ("status", StatusHandler),
    ("models", ModelsHandler),
    ("sessions", SessionsHandler),
    (f"sessions/{_SID}", SessionHandler),
    (f"sessions/{_SID}/messages", MessagesHandler),
    (f"sessions/{_SID}/abort", AbortHandler),
    (f"sessions/{_SID}/fork", ForkHandler),
    (f"sessions/{_SID}/permissions/(?P<pid>[^/]+)", PermissionHandler),
    ("openapi.json", OpenAPIHandler),
    ("stream", StreamHandler),
    (r"notebook/tools/(?P<tool>[a-z_]{1,40})", NotebookToolHandler),
    ("notebook/live", LiveNotebookHandler),
    (f"sessions/{_SID}/messages/(?P<mid>[^/]+)/notebook-changes", NotebookUndoHandler),
]
