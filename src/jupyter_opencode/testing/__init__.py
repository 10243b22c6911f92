"""Test helpers: the demo model as a subprocess, isolated Jupyter servers, Chromium.

The model itself is :mod:`jupyter_opencode.demo` (its directives: :mod:`.demo.scripts`);
:mod:`jupyter_opencode.testing.jupyter` runs an isolated Jupyter server against it.
"""

from __future__ import annotations

from ..demo.app import main, make_app, serve
from ..demo.config import MODEL_ID, MODEL_NAME, PROVIDER_ID, opencode_config
from ..demo.scripts import (
    TOOL_COMMAND,
    TOOL_OUTPUT,
    expected_reasoning,
    expected_text,
    parse_directive,
    reasoning_chunks,
    reply_chunks,
    title_for,
)
from .jupyter import (
    CHROMIUM,
    CHROMIUM_ARGS,
    JupyterProcess,
    chromium,
    free_port,
    quiet_lab_settings,
    serve_directory,
)
from .process import FakeModelError, FakeModelProcess

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "MODEL_ID",
    "MODEL_NAME",
    "PROVIDER_ID",
    "TOOL_COMMAND",
    "TOOL_OUTPUT",
    "FakeModelError",
    "FakeModelProcess",
    "JupyterProcess",
    "chromium",
    "expected_reasoning",
    "expected_text",
    "free_port",
    "main",
    "make_app",
    "opencode_config",
    "parse_directive",
    "quiet_lab_settings",
    "reasoning_chunks",
    "reply_chunks",
    "serve",
    "serve_directory",
    "title_for",
]
