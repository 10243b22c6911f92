"""Offline fake OpenAI-compatible model with scripted replies, for tests and demos.

See :mod:`jupyter_opencode.testing.scripts` for the directives (``[[long:N]]``, ``[[tool]]``...),
and :mod:`jupyter_opencode.testing.jupyter` for an isolated Jupyter server to run it against.
"""

from __future__ import annotations

from .config import MODEL_ID, MODEL_NAME, PROVIDER_ID, opencode_config
from .jupyter import CHROMIUM, CHROMIUM_ARGS, JupyterProcess, chromium, free_port
from .process import FakeModelError, FakeModelProcess
from .scripts import (
    TOOL_COMMAND,
    TOOL_OUTPUT,
    expected_reasoning,
    expected_text,
    parse_directive,
    reasoning_chunks,
    reply_chunks,
    title_for,
)
from .server import main, make_app, serve

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
    "reasoning_chunks",
    "reply_chunks",
    "serve",
    "title_for",
]
