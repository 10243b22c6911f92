"""Kernel side: the Chat widget, its network client and notebook context."""

from __future__ import annotations

from .client import OpencodeConnectionError, OpencodeRequestError, ServerClient
from .magic import load_ipython_extension
from .reply import Reply
from .widget import Chat

__all__ = [
    "Chat",
    "OpencodeConnectionError",
    "OpencodeRequestError",
    "Reply",
    "ServerClient",
    "load_ipython_extension",
]
