"""Chat with an opencode coding agent from inside Jupyter notebooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .kernel.reply import Reply
    from .kernel.widget import Chat


def __getattr__(name: str) -> Any:
    # The kernel side (anywidget, IPython) loads only when a notebook asks for it,
    # never in the Jupyter server process.
    if name == "Chat":
        from .kernel.widget import Chat

        return Chat
    if name == "Reply":
        from .kernel.reply import Reply

        return Reply
    raise AttributeError(f"module 'jupyter_opencode' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_opencode``: the ``%%opencode`` cell magic and cell recording."""
    from .kernel.magic import load_ipython_extension as load

    load(ipython)


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import OpencodeExtension

    return [{"module": "jupyter_opencode", "app": OpencodeExtension}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-opencode"}]


__all__ = ["Chat", "Reply", "__version__", "load_ipython_extension"]
