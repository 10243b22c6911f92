"""Status line texts of the chat panel, from status chunks and final messages."""

from __future__ import annotations

from typing import Any

from .client import Event


def status_text(event: Event, tool: str) -> str:
    """Status line text for a status chunk."""
    status = event.get("status")
    if status == "starting":
        return "Starting worker…"
    if status == "thinking":
        return "Thinking…"
    if status == "tool":
        return f"Running tool: {tool}" if tool else "Running a tool…"
    if status == "permission":
        return "Waiting for your permission"
    if status == "retrying":
        return f"Retrying ({event.get('attempt') or '?'}/5)…"
    if status == "error":
        return f"Error: {event.get('message') or 'unknown error'}"
    return ""


def final_status_text(message: dict[str, Any]) -> str:
    """Status line text once an assistant message is final."""
    status = message.get("status")
    if status == "error":
        return f"Error: {message.get('error') or 'unknown error'}"
    if status in ("interrupted", "aborted"):
        return "Interrupted"
    return ""
