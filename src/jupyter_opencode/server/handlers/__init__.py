"""HTTP and WebSocket routes of the extension, relative to ``{base_url}opencode/``."""

from __future__ import annotations

from typing import Any

from .export import BulkExportHandler, ExportHandler, ImportHandler
from .library import (
    AnnotationHandler,
    EditHandler,
    MessageHandler,
    SearchHandler,
    TemplateHandler,
    TemplatesHandler,
)
from .notebook import LiveNotebookHandler, NotebookToolHandler, NotebookUndoHandler
from .rest import (
    AbortHandler,
    FilesHandler,
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
_MID = r"(?P<mid>[^/]+)"

ROUTES: list[tuple[str, Any]] = [
    ("status", StatusHandler),
    ("models", ModelsHandler),
    ("files", FilesHandler),
    ("sessions", SessionsHandler),
    ("sessions/import", ImportHandler),  # before sessions/{sid}: the first match wins
    (f"sessions/{_SID}", SessionHandler),
    (f"sessions/{_SID}/messages", MessagesHandler),
    (f"sessions/{_SID}/abort", AbortHandler),
    (f"sessions/{_SID}/fork", ForkHandler),
    (f"sessions/{_SID}/permissions/(?P<pid>[^/]+)", PermissionHandler),
    (f"sessions/{_SID}/export", ExportHandler),
    ("export", BulkExportHandler),
    ("openapi.json", OpenAPIHandler),
    ("search", SearchHandler),
    ("templates", TemplatesHandler),
    ("templates/(?P<name>[^/]+)", TemplateHandler),
    (f"sessions/{_SID}/messages/{_MID}", MessageHandler),
    (f"sessions/{_SID}/messages/{_MID}/edit", EditHandler),
    (f"sessions/{_SID}/messages/{_MID}/annotation", AnnotationHandler),
    ("stream", StreamHandler),
    ("notebook/tools/(?P<tool>[^/]+)", NotebookToolHandler),  # unknown tools: a JSON 400
    ("notebook/live", LiveNotebookHandler),
    (f"sessions/{_SID}/messages/{_MID}/notebook-changes", NotebookUndoHandler),
]
