"""HTTP and WebSocket routes of the extension, relative to ``{base_url}opencode/``."""

from __future__ import annotations

from typing import Any

from .export import BulkExportHandler, ExportHandler, ImportHandler
from .files import FileChangesHandler, FileUndoHandler
from .library import (
    AnnotationHandler,
    EditHandler,
    MessageHandler,
    SearchHandler,
    TemplateHandler,
    TemplatesHandler,
)
from .notebook import LiveNotebookHandler, NotebookMCPHandler, NotebookUndoHandler
from .plan import CompactHandler, PlanHandler
from .rest import (
    AbortHandler,
    FilesHandler,
    ForkHandler,
    MessagesHandler,
    ModelsHandler,
    OpenAPIHandler,
    PermissionHandler,
    QuestionHandler,
    SessionHandler,
    SessionsHandler,
    StatusHandler,
)
from .stream import StreamHandler
from .toolset import AgentsHandler, CommandHandler, CommandsHandler

_SID = r"(?P<sid>[^/]+)"
_MID = r"(?P<mid>[^/]+)"

ROUTES: list[tuple[str, Any]] = [
    ("status", StatusHandler),
    ("models", ModelsHandler),
    ("agents", AgentsHandler),
    ("commands", CommandsHandler),
    ("files", FilesHandler),
    ("sessions", SessionsHandler),
    ("sessions/import", ImportHandler),  # before sessions/{sid}: the first match wins
    (f"sessions/{_SID}", SessionHandler),
    (f"sessions/{_SID}/messages", MessagesHandler),
    (f"sessions/{_SID}/command", CommandHandler),
    (f"sessions/{_SID}/abort", AbortHandler),
    (f"sessions/{_SID}/fork", ForkHandler),
    (f"sessions/{_SID}/permissions/(?P<pid>[^/]+)", PermissionHandler),
    (f"sessions/{_SID}/questions/(?P<qid>[^/]+)", QuestionHandler),
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
    ("notebook/mcp", NotebookMCPHandler),
    ("notebook/live", LiveNotebookHandler),
    (f"sessions/{_SID}/messages/{_MID}/notebook-changes", NotebookUndoHandler),
    (f"sessions/{_SID}/messages/{_MID}/files", FileChangesHandler),
    (f"sessions/{_SID}/messages/{_MID}/files/undo", FileUndoHandler),
    (f"sessions/{_SID}/todo", PlanHandler),
    (f"sessions/{_SID}/compact", CompactHandler),
]
