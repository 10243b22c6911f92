"""Chat with an opencode coding agent from inside Jupyter notebooks."""

from __future__ import annotations

from typing import Any

from ._version import __version__


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import OpencodeExtension

    return [{"module": "jupyter_opencode", "app": OpencodeExtension}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-opencode"}]


__all__ = ["__version__"]
