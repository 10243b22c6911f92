"""Persistence of chat sessions."""

from .store import SessionStore

__all__ = ["SessionStore"]
