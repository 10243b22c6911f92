"""Idle culling: an answer streaming to no browser is activity; an idle server looks idle."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import pytest

from .streams import Api, time_limit


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Stamp activity every 0.2 s while answering."""
    jp_server_config["OpencodeExtension"]["activity_interval"] = 0.2
    return jp_server_config


async def _last_activity(jp_fetch: Any) -> datetime:
    """What ``GET api/status`` reports (the route itself is not activity)."""
    response = await jp_fetch("api", "status")
    return datetime.fromisoformat(json.loads(response.body)["last_activity"].replace("Z", "+00:00"))


async def test_streaming_answer_keeps_the_server_active(
    api: Api, jp_fetch: Any, jp_serverapp: Any
) -> None:
    sid = "session-activity-1"
    accepted = await api.prompt(sid, "[[slow:40:0.1]] a long run nobody watches")
    mid = accepted["assistant_message"]["id"]
    app = jp_serverapp.web_app.settings["jupyter_opencode_app"]
    assert app.current_activity() == [sid]
    first = await _last_activity(jp_fetch)
    seen = [first]
    async with time_limit(60):
        while sid in app.service.turns:
            await asyncio.sleep(0.5)
            seen.append(await _last_activity(jp_fetch))
    assert len(set(seen)) >= 4, seen  # it kept moving while no request came in
    assert seen == sorted(seen)
    # Reading the finished answer is a request, the last activity; then the server idles.
    assert (await api.wait_status(sid, mid))["status"] == "complete"
    assert app.current_activity() == []
    settled = await _last_activity(jp_fetch)
    await asyncio.sleep(1.0)
    assert await _last_activity(jp_fetch) == settled
