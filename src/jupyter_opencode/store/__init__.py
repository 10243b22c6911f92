"""Persistence of chat sessions."""

from .store import FINAL_STATUSES, OPEN_STATUSES, SessionStore

__all__ = ["FINAL_STATUSES", "OPEN_STATUSES", "SessionStore"]
