"""The offline demo model: a scripted OpenAI-compatible server opencode can talk to.

It answers the demo when no provider is configured, and the tests (see
:mod:`jupyter_opencode.testing`). :mod:`.scripts` lists its directives (``[[long:N]]``,
``[[tool]]``...).
"""

from __future__ import annotations

from .app import main, make_app, serve
from .config import MODEL_ID, MODEL_NAME, PROVIDER_ID, opencode_config

__all__ = ["MODEL_ID", "MODEL_NAME", "PROVIDER_ID", "main", "make_app", "opencode_config", "serve"]
