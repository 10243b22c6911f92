"""Schema-driven fuzz of every REST route of the served OpenAPI document, and of stream frames.

Hypothesis draws the cases (a fixed number per operation, derandomized), the real server
answers them: never a 500, never a traceback, always ``{message, reason}`` on a 4xx, and a
rejected request changes nothing saved.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tornado.httpclient import HTTPClientError

from .streams import Api, Opener, time_limit

EXAMPLES = 30
SEEDED = "fuzz-seeded-session"
REWOUND = "fuzz-rewound-session"  # the one session destructive requests may change
TEMPLATE = "fuzz template"
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


def _cases(strategy: st.SearchStrategy[Any], count: int = EXAMPLES) -> list[Any]:
    """``count`` examples of a strategy, the same on every run."""
    found: list[Any] = []

    @settings(max_examples=count, database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def collect(case: Any) -> None:
        found.append(case)

    collect()
    return found[:count]


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for the small JSON Schemas of the document (types, enums, patterns)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=60)
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(min_value=-(2**40), max_value=2**40)
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {})), max_size=3)
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in properties.items() if k in required},
            optional={k: from_schema(v) for k, v in properties.items() if k not in required},
        )
    return JSON


def _param(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    """A path or query value: valid for its schema, hostile, or any text."""
    valid = (
        st.from_regex(schema["pattern"], fullmatch=True)
        if "pattern" in schema
        else from_schema(schema).map(str)
    )
    short = [text for text in HOSTILE_TEXT if len(text) < 1000]  # a URL has a size limit
    hostile = st.sampled_from([*HOSTILE_IDS, *short, "-1", "99999999999999999999"])
    return st.one_of(valid, hostile, st.text(max_size=80))


def _body(op: dict[str, Any], known: Sequence[bytes] = ()) -> st.SearchStrategy[bytes | None]:
    """A request body: a real one, valid for its schema, any JSON, or broken bytes."""
    content = (op.get("requestBody") or {}).get("content", {}).get("application/json")
    broken = st.sampled_from([b"{", b"\xff\xfe{}", b"[" * 5_000, b"null", b'"text"', b""])
    options = [JSON.map(lambda v: json.dumps(v).encode()), broken]
    if known:
        options.insert(0, st.sampled_from(known))
    if content:
        options.insert(0, from_schema(content["schema"]).map(lambda v: json.dumps(v).encode()))
    return st.one_of(*options)


def _request(path: str, item: dict[str, Any], op: dict[str, Any], known: Known) -> Any:
    """One request to an operation: (path values, query, body).

    Path values are half the time ids that exist together (a session and one of its
    messages), so the handlers' work past the lookups is fuzzed too.
    """
    params = [*item.get("parameters", []), *op.get("parameters", [])]
    names = {p["name"] for p in params if p["in"] == "path"}
    drawn = st.fixed_dictionaries(
        {p["name"]: _param(p["schema"]) for p in params if p["in"] == "path"}
    )
    existing = [ids for ids in known.ids if set(ids) == names]
    path_values = st.one_of(st.sampled_from(existing), drawn) if existing else drawn
    query = {  # optional ones mostly left out, so the required ones reach the handler's work
        p["name"]: _param(p["schema"])
        if p.get("required")
        else st.one_of(st.none(), st.none(), st.none(), _param(p["schema"]))
        for p in params
        if p["in"] == "query"
    }
    bodies = [b.encode() for b in known.bodies.get(path, [])]
    return st.tuples(path_values, st.fixed_dictionaries(query), _body(op, bodies))


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
    async with time_limit(90):
        while service.turns:
            await asyncio.sleep(0.05)
    await service.writer.flush()


@dataclass
class Known:
    """Path values that exist together, and real request bodies by path."""

    ids: list[dict[str, str]]
    bodies: dict[str, list[str]]


async def _seed(api: Api, service: Any) -> Known:
    """Sessions with history and a template: ids the fuzz can hit for real."""
    for sid in (SEEDED, REWOUND):
        code, body = await api.call("GET", "sessions", sid, "messages")
        if code == 404 or not body["messages"]:
            await api.prompt(sid, "something to keep")
            await _quiet(service)
    code, _ = await api.call("POST", "templates", body={"name": TEMPLATE, "instructions": "hi"})
    assert code == 201
    ids: list[dict[str, str]] = [{"sid": SEEDED}, {"sid": REWOUND}, {"name": TEMPLATE}]
    for sid in (SEEDED, REWOUND):
        ids += [{"sid": sid, "mid": m["id"]} for m in await api.messages(sid)]
    code, exported = await api.call("GET", "sessions", SEEDED, "export", format="json")
    assert code == 200
    bulk = {"session_ids": [SEEDED, REWOUND], "format": "md"}
    return Known(ids, {"/sessions/import": [json.dumps(exported)], "/export": [json.dumps(bulk)]})


async def test_every_rest_route_from_the_openapi_document(
    jp_serverapp: Any, jp_fetch: Any, api: Api, db_path: Path
) -> None:
    service = jp_serverapp.web_app.settings["jupyter_opencode_service"]
    known = await _seed(api, service)
    code, document = await api.call("GET", "openapi.json")
    assert code == 200
    operations = [
        (path, method, item, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in ("get", "put", "post", "patch", "delete")
        and "101" not in op["responses"]  # the WebSockets: their frames are fuzzed below
    ]
    assert len(operations) >= 24
    sent: dict[str, int] = {}
    accepted: dict[str, int] = {}
    for path, method, item, op in operations:
        name = f"{method.upper()} {path}"
        sent[name] = accepted[name] = 0
        for path_params, query, body in _cases(_request(path, item, op, known)):
            path_params = dict(path_params)
            if {"", ".", ".."} & set(path_params.values()) or any(
                "/" in value for value in path_params.values()
            ):
                continue  # a URL of another route (or none), not a value of this one
            if path_params.get("sid") == SEEDED and (
                method == "delete" or path.endswith(("/abort", "/fork"))
            ):
                continue  # keep one session with history for the routes after this one
            await _quiet(service)
            before = _digest(db_path)
            segments = path.strip("/").split("/")
            for index, segment in enumerate(segments):
                if segment.startswith("{"):
                    segments[index] = path_params[segment[1:-1]]  # jp_fetch escapes it
            params = {k: v for k, v in query.items() if v is not None}
            response = await jp_fetch(
                "opencode", *segments, method=method.upper(), params=params,
                body=body if method in ("put", "post", "patch") else None,
                raise_error=False, allow_nonstandard_methods=True,
            )  # fmt: skip
            where = f"{method.upper()} {'/'.join(segments)} {params} {body!r:.200}"
            _check(response.code, response.body, where)
            if response.code >= 400:
                await _quiet(service)
                assert _digest(db_path) == before, f"a rejected request changed data: {where}"
            else:
                accepted[name] += 1
                if path_params.get("sid") == REWOUND or path.startswith("/templates"):
                    await _quiet(service)
                    known = await _seed(api, service)  # rewound or deleted: seed again
            sent[name] += 1
    for name in sorted(sent):
        print(f"\n{name}: {sent[name]} requests, {accepted[name]} accepted", end="")
    print(f"\nfuzz: {sum(sent.values())} requests over {len(operations)} operations")
    # Each operation of the library, export and import got valid requests through, not only 4xx.
    for name in [
        "PUT /sessions/{sid}/messages/{mid}/annotation", "POST /sessions/{sid}/messages/{mid}/edit",
        "DELETE /sessions/{sid}/messages/{mid}", "POST /templates", "DELETE /templates/{name}",
        "GET /templates", "GET /search", "GET /sessions/{sid}/export", "POST /export",
        "POST /sessions/import",
    ]:  # fmt: skip
        assert sent[name] >= EXAMPLES // 3 and accepted[name] >= 1, (
            name,
            sent[name],
            accepted[name],
        )


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
                 "session_id": _param({"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"})},
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
        async with time_limit(30):
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
