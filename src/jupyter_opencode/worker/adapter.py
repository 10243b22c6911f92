"""Everything this project knows about opencode's HTTP API (the V1 routes of ``opencode serve``)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .sse import SSEError, sse_batches


class OpencodeError(Exception):
    """opencode answered a request with an error (``code``), or could not be reached."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def _error_detail(body: bytes) -> str:
    """opencode's own words from an error answer: ``Name (path): message``, else the raw body."""
    try:
        error = json.loads(body)
        data = error.get("data") or {}
        where = f" ({data['path']})" if data.get("path") else ""
        return f"{error['name']}{where}: {str(data.get('message', '')).strip()}"[:1500]
    except (ValueError, KeyError, TypeError, AttributeError):
        return body.decode(errors="replace")[:500]


class OpencodeClient:
    """Async client of one ``opencode serve`` process, authenticated with HTTP Basic."""

    def __init__(self, base_url: str, password: str, username: str = "opencode") -> None:
        self.base_url = base_url.rstrip("/")
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        self._http = AsyncHTTPClient(force_instance=True, max_clients=64)
        self._closed = False

    def close(self) -> None:
        """Release the HTTP client; later requests fail with OpencodeError."""
        self._closed = True
        self._http.close()

    async def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        timeout: float = 30.0,
    ) -> Any:
        url = f"{self.base_url}{path}"
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        headers = dict(self._headers)
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        request = HTTPRequest(
            url,
            method=method,
            headers=headers,
            body=payload if method in ("POST", "PATCH", "PUT") else None,
            allow_nonstandard_methods=body is None and method == "POST",
            connect_timeout=min(timeout, 5.0),
            request_timeout=timeout,
        )
        if self._closed:
            raise OpencodeError(f"{method} {path}: the worker was stopped")
        try:
            response = await self._http.fetch(request)
        except HTTPClientError as e:
            detail = _error_detail(e.response.body) if e.response else str(e)
            raise OpencodeError(f"{method} {path} failed ({e.code}): {detail}", e.code) from e
        except OSError as e:
            raise OpencodeError(f"{method} {path} failed: {e}") from e
        if not response.body:
            return None
        return json.loads(response.body)

    async def health(self, timeout: float = 0.3) -> dict[str, Any] | None:
        """What opencode's health route says (its version), or None without an answer in time."""
        try:
            result = await self._request("GET", "/global/health", timeout=timeout)
        except (OpencodeError, asyncio.TimeoutError, ValueError):
            return None
        return result if isinstance(result, dict) else {}

    async def config(self, timeout: float = 60.0) -> dict[str, Any]:
        """opencode's configuration; the first such request loads it and sets up the project."""
        result = await self._request("GET", "/config", timeout=timeout)
        return result if isinstance(result, dict) else {}

    async def warm(self, first_message: bool = True) -> dict[str, str]:
        """Pay, without a model call, what opencode's first prompt would pay on its own: its
        config, providers and agents, its MCP servers (they connect at once, beside the rest),
        then its file access, the tools the default model is offered and a first message. Without
        ``first_message`` a prompt is on its way, which pays most of that itself: beside it the
        warm-up only opens the file access (which shortens that prompt's wait) and waits for
        the MCP servers, instead of competing with it for opencode's time. Answers how each
        MCP server's connection went: ``connected``, else what went wrong."""
        if not first_message:
            servers, _ = await asyncio.gather(self._set_up("/mcp"), self._set_up("/file", path="."))
            return _mcp_states(servers)
        config, *_, servers = await asyncio.gather(
            self.config(),
            self._set_up("/config/providers"),
            self._set_up("/agent"),
            self._set_up("/command"),
            self._set_up("/mcp"),
        )
        later = [self._set_up("/file", path="."), self._rehearse()]
        model = config.get("model")
        if isinstance(model, str) and "/" in model:
            provider, model_id = model.split("/", 1)
            later.append(self._set_up("/experimental/tool", provider=provider, model=model_id))
        await asyncio.gather(*later)
        return _mcp_states(servers)

    async def _set_up(self, route: str, /, **query: str) -> Any:
        """A GET of the warm-up: the first of its kind waits for opencode to set that part up."""
        return await self._request("GET", route, query=query, timeout=60.0)

    async def _rehearse(self) -> None:
        """A message the model never sees (``noReply``), in a session made for it and deleted:
        opencode sets up the saving of a first message, which a first prompt would wait for."""
        sid = await self.create_session("warm-up")
        try:
            body = {"parts": [{"type": "text", "text": "warm-up"}], "noReply": True}
            await self._request("POST", f"/session/{sid}/message", body, timeout=60.0)
        finally:
            await self._request("DELETE", f"/session/{sid}")

    async def providers(self) -> dict[str, Any]:
        """The configured providers, their models and the default model of each."""
        result: dict[str, Any] = await self._request("GET", "/config/providers")
        return result

    async def create_session(self, title: str | None = None) -> str:
        """Create an opencode session and return its id."""
        body = {"title": title} if title else {}
        result = await self._request("POST", "/session", body)
        return str(result["id"])

    async def fork_session(self, opencode_session_id: str, before: str | None = None) -> str:
        """Copy an opencode session's history (all, or what precedes message ``before``)."""
        body = {"messageID": before} if before else {}
        result = await self._request("POST", f"/session/{opencode_session_id}/fork", body)
        return str(result["id"])

    async def revert(self, opencode_session_id: str, message_id: str) -> None:
        """Take back a message and everything after it (removed for good at the next prompt)."""
        path = f"/session/{opencode_session_id}/revert"
        await self._request("POST", path, {"messageID": message_id})

    async def get_session(self, opencode_session_id: str) -> dict[str, Any] | None:
        """One opencode session, or None when opencode does not know it."""
        try:
            result: dict[str, Any] = await self._request("GET", f"/session/{opencode_session_id}")
        except OpencodeError as e:
            if e.code == 404:
                return None
            raise
        return result

    async def prompt(
        self,
        opencode_session_id: str,
        text: str,
        model: str | None = None,
        agent: str | None = None,
        system: str | None = None,
        subagents: list[str] | None = None,
        files: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Start answering a prompt (``subagents``: those it mentions, handed their part;
        ``files``: file parts, before the question); the answer arrives on the event stream."""
        parts = [{"type": "agent", "name": name} for name in subagents or []]
        body: dict[str, Any] = {"parts": [*files, {"type": "text", "text": text}, *parts]}
        if agent:
            body["agent"] = agent
        if system:
            body["system"] = system
        if model and "/" in model:
            provider, model_id = model.split("/", 1)
            body["model"] = {"providerID": provider, "modelID": model_id}
        await self._request("POST", f"/session/{opencode_session_id}/prompt_async", body)

    async def abort(self, opencode_session_id: str, timeout: float = 30.0) -> None:
        """Stop the answer being generated in a session."""
        await self._request("POST", f"/session/{opencode_session_id}/abort", timeout=timeout)

    async def summarize(self, opencode_session_id: str, model: str, timeout: float = 600.0) -> None:
        """Compact a session: the model summarizes it, and later prompts go on from the summary."""
        provider, _, model_id = model.partition("/")
        body = {"providerID": provider, "modelID": model_id}
        path = f"/session/{opencode_session_id}/summarize"
        await self._request("POST", path, body, timeout=timeout)

    async def messages(
        self, opencode_session_id: str, limit: int | None = 10
    ) -> list[dict[str, Any]]:
        """The latest messages of a session with their parts (all when no limit), oldest first."""
        result: list[dict[str, Any]] = await self._request(
            "GET", f"/session/{opencode_session_id}/message", query={"limit": limit}
        )
        return result

    async def reply_permission(
        self, permission_id: str, reply: str, message: str | None = None
    ) -> None:
        """Answer a permission request: once, always or reject (``message`` goes to the agent)."""
        body = {"reply": reply, **({"message": message} if message else {})}
        await self._request("POST", f"/permission/{permission_id}/reply", body)

    async def agents(self) -> list[dict[str, Any]]:
        """opencode's agents: name, description, mode (primary, subagent or all), hidden."""
        result = await self._request("GET", "/agent")
        return [a for a in result or [] if isinstance(a, dict)]

    async def commands(self) -> list[dict[str, Any]]:
        """opencode's commands: the user's Markdown ones, MCP prompts, skills and built-ins."""
        result = await self._request("GET", "/command")
        return [c for c in result or [] if isinstance(c, dict)]

    async def command(
        self,
        opencode_session_id: str,
        name: str,
        arguments: str,
        model: str | None = None,
        agent: str | None = None,
        timeout: float = 3600.0,
    ) -> None:
        """Run a command in a session; answers when the command's answer has ended."""
        body: dict[str, Any] = {"command": name, "arguments": arguments}
        if agent:
            body["agent"] = agent
        if model:
            body["model"] = model
        path = f"/session/{opencode_session_id}/command"
        await self._request("POST", path, body, timeout=timeout)

    async def answer_question(self, question_id: str, answers: list[list[str]] | None) -> None:
        """Answer a question of the agent: a list of labels per question, or None to dismiss it."""
        if answers is None:
            await self._request("POST", f"/question/{question_id}/reject", {})
        else:
            await self._request("POST", f"/question/{question_id}/reply", {"answers": answers})

    async def events(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield opencode's server-sent events, a batch at a time, until the stream ends."""
        headers = {"Authorization": self._headers["Authorization"], "Accept": "text/event-stream"}
        try:
            async for batch in sse_batches(f"{self.base_url}/event", headers):
                yield batch
        except SSEError as e:
            raise OpencodeError(str(e)) from e


def _mcp_states(servers: Any) -> dict[str, str]:
    """Each MCP server's state from opencode's ``GET /mcp``: its status, or its error."""
    return {
        str(name): str(state.get("error") or state.get("status"))
        for name, state in (servers if isinstance(servers, dict) else {}).items()
        if isinstance(state, dict)
    }
