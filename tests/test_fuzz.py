"""Hostile ids and text on every REST route of the served OpenAPI document, and stream frames.

schemathesis draws the schema's cases (tests/test_contract.py); here a fixed corpus of hostile
ids and text goes into every path parameter, query parameter and body field: never a 500, never
a traceback, always ``{message, reason}`` on a 4xx, and a rejected request changes nothing saved.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tornado.httpclient import HTTPClientError

from .streams import Api, Opener

SEEDED = "fuzz-seeded-session"
HOSTILE_IDS = [
    "../../etc/passwd", "a/b", "..", "%2e%2e%2f", "x" * 65, "short", "\u202eabcdefgh",
    "' OR 1=1 --", 'abc"defgh', "sess*ion NEAR(a b)", "\x00abcdefgh", "ab\ncdefgh",
    "😀😀😀😀😀😀😀😀",
]  # fmt: skip
HOSTILE_TEXT = [
    "' OR '1'='1", "\"; DROP TABLE sessions; --", "title* OR NEAR(a, b)", '"unbalanced',
    "<script>alert(1)</script>", "\u0000", "x" * 100_000, "{{7*7}}", "%s%s%n",
    '"', "*", "NEAR(", "^a", "-x", "title:x", "a AND (b", "{a b}: c", "a\"b\"*", "()",
]  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _cases(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` examples of a strategy, the same on every run."""
    found: list[Any] = []

    @settings(max_examples=count, database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def collect(case: Any) -> None:
        found.append(case)

    collect()
    return found[:count]


def _digest(db_path: Path) -> str:
    """A digest of everything saved."""
    with sqlite3.connect(db_path) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith(("sqlite_", "search_index"))  # FTS shadows follow search_docs
        ]
        rows = [db.execute(f'SELECT * FROM "{table}" ORDER BY 1, 2').fetchall() for table in tables]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _check(code: int, raw: bytes, where: str) -> None:
    assert code < 500, f"{where}: {code} {raw[:300]!r}"
    assert b"Traceback" not in raw, where
    if code >= 400:
        assert raw.startswith(b"{"), f"{where}: {code} {raw[:300]!r}"
        body = json.loads(raw)
        assert isinstance(body.get("message"), str) and isinstance(body.get("reason"), str), where


async def _quiet(service: Any) -> None:
    """Wait until no answer is in progress (so nothing changes the database meanwhile)."""
    async with asyncio.timeout(90):
        while service.turns:
            await asyncio.sleep(0.05)
    await service.writer.flush()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every JSON route (not the WebSocket upgrades)."""
    return [
        (
            method,
            path,
            {**op, "parameters": [*item.get("parameters", []), *op.get("parameters", [])]},
        )
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in ("get", "put", "post", "patch", "delete") and "101" not in op["responses"]
    ]


def _hostile_body(op: dict[str, Any], text: str) -> bytes:
    """Every top-level field of the operation's body set to the hostile text."""
    content = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
    fields = content.get("schema", {}).get("properties", {})
    return json.dumps(dict.fromkeys(fields, text) or {"text": text}).encode()


async def test_hostile_ids_and_text_on_every_route(
    jp_serverapp: Any, jp_fetch: Any, api: Api, db_path: Path
) -> None:
    service = jp_serverapp.web_app.settings["jupyter_opencode_service"]
    await api.prompt(SEEDED, "something to keep")
    await _quiet(service)
    code, document = await api.call("GET", "openapi.json")
    assert code == 200
    operations = _operations(document)
    assert len(operations) >= 24
    before = _digest(db_path)
    sent = 0
    short = [text for text in HOSTILE_TEXT if len(text) < 1000]  # a URL has a size limit
    for method, path, op in operations:
        names = [p["name"] for p in op["parameters"] if p["in"] == "path"]
        queries = [p["name"] for p in op["parameters"] if p["in"] == "query"]
        ids = [i for i in HOSTILE_IDS if "/" not in i and i not in (".", "..")]  # other routes
        # A hostile id in each path position (the others real), or hostile text everywhere else.
        cases = [({n: SEEDED for n in names} | {name: bad}, short[k % len(short)], bad)
                 for name in names for k, bad in enumerate(ids)]  # fmt: skip
        if not names:
            cases = [({}, text, text) for text in HOSTILE_TEXT]
        for values, query_text, body_text in cases:
            segments = [values[s[1:-1]] if s.startswith("{") else s
                        for s in path.strip("/").split("/")]  # fmt: skip
            params = dict.fromkeys(queries, query_text) if len(query_text) < 1000 else {}
            body = _hostile_body(op, body_text) if method in ("put", "post", "patch") else None
            response = await jp_fetch(
                "opencode", *segments, method=method.upper(), params=params, body=body,
                raise_error=False, allow_nonstandard_methods=True,
            )  # fmt: skip
            where = f"{method.upper()} {'/'.join(segments)} {params} {body!r:.200}"
            _check(response.code, response.body, where)
            assert response.code >= 400 or method == "get", f"hostile input accepted: {where}"
            await _quiet(service)
            assert _digest(db_path) == before, f"a rejected request changed data: {where}"
            sent += 1
    print(f"\nfuzz: {sent} hostile requests over {len(operations)} operations")


async def test_hostile_bodies(api: Api, jp_fetch: Any) -> None:
    sid = "fuzz-hostile-bodies"
    for raw, reason in [
        (b"[" * 100_000, "bad_json"),  # deep JSON: a RecursionError, not a 500
        (b'{"text": "\xff\xfe"}', "bad_json"),  # invalid UTF-8
        (json.dumps({"text": "x" * 2_000_000}).encode(), "message_too_large"),
        (json.dumps({"text": "hi", "context": [{"kind": "cell", "label": "l",
                                                "text": "y" * 300_000}]}).encode(),
         "message_too_large"),
    ]:  # fmt: skip
        code, body = await api.call("POST", "sessions", sid, "messages", raw=raw)
        assert (code, body["reason"]) == (400, reason)
    assert (await api.call("GET", "sessions", sid))[0] == 404


async def test_stream_frame_fuzz(api: Api, open_stream: Opener) -> None:
    """Every frame gets an error frame or its normal answer; the socket stays usable."""
    stream = await open_stream()
    frames = _cases(
        st.one_of(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["subscribe", "unsubscribe", "prompt", "x"]) | st.text(),
                 "session_id": st.from_regex("^[A-Za-z0-9_-]{8,64}$", fullmatch=True)
                 | st.sampled_from(HOSTILE_IDS) | st.text(max_size=80)},
                optional={"after_seq": JSON, "text": JSON, "context": JSON, "model": JSON},
            ).map(json.dumps),
            JSON.map(json.dumps),
            st.sampled_from(["[" * 5_000, "{", "", "null"]),
            st.binary(max_size=64),
        ),
        count=120,
    )  # fmt: skip
    for index, frame in enumerate(frames):
        stream.ws.write_message(frame, binary=isinstance(frame, bytes))
        sentinel = f"sentinel-{index:04d}"
        stream.send(type="probe", session_id=sentinel)
        async with asyncio.timeout(30):
            while True:
                answer = await stream.next()
                assert "Traceback" not in json.dumps(answer)
                if answer["type"] == "error":
                    assert answer["message"] and answer["reason"]
                if answer["type"] == "error" and answer.get("session_id") == sentinel:
                    break
    code, _ = await api.call("GET", "status")
    assert code == 200
    print(f"\nfuzz: {len(frames)} stream frames")


async def test_cross_origin_socket_is_refused(
    jp_fetch: Any, jp_ws_fetch: Any, jp_http_port: int
) -> None:
    """A page elsewhere has the user's cookie, never the token: its socket is refused."""
    response = await jp_fetch("opencode", "status")
    cookie = "; ".join(c.split(";", 1)[0] for c in response.headers.get_list("Set-Cookie"))
    assert cookie
    host = f"127.0.0.1:{jp_http_port}"  # the cookie's name is bound to the host it came from
    cookie_only = {"Authorization": "", "Cookie": cookie, "Host": host}
    same = await jp_ws_fetch(
        "opencode", "stream", headers={**cookie_only, "Origin": f"http://{host}"}
    )
    same.close()
    try:
        await jp_ws_fetch(
            "opencode", "stream", headers={**cookie_only, "Origin": "http://evil.example"}
        )
    except HTTPClientError as e:
        assert e.code == 403
    else:
        raise AssertionError("a cross-origin WebSocket was accepted")
